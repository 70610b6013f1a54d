"""Wire formats of the waiting room (names fixed by API.md: ticket, position, serving,
admitted, poll_after_s, admission_token)."""

from __future__ import annotations

import functools
from datetime import UTC, datetime

import msgspec

from kontingent.clock import BERLIN
from kontingent.waiting_room.views import QueueView


@functools.lru_cache(maxsize=256)  # mostly the one opening minute, asked for every poll
def _at(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).astimezone(BERLIN)


class QueueOut(msgspec.Struct):
    ticket: str
    # Your number in line, or null before the opening minute (places are drawn then).
    position: int | None
    serving: int  # how many have been let in so far
    admitted: bool
    poll_after_s: float  # ask again after this long
    status: str  # before_opening | waiting | admitted
    waiting: int  # people in the queue now
    # Seconds until admission, null while the admission rate is too young or too uneven.
    estimated_wait_s: float | None
    opens_at: datetime | None
    # Once admitted while the room guards: send it as X-Admission. Null while the room is
    # off (nothing is checked then; a ticket of that time is not in the queue).
    admission_token: str | None = msgspec.field(default=None)
    admission_expires_at: datetime | None = msgspec.field(default=None)

    @classmethod
    def of(cls, view: QueueView) -> QueueOut:
        return cls(
            ticket=view.ticket,
            position=view.position,
            serving=view.serving,
            admitted=view.admitted,
            poll_after_s=view.poll_after_s,
            status=view.status,
            waiting=view.waiting,
            estimated_wait_s=view.estimated_wait_s,
            opens_at=_at(view.opens_at),
            admission_token=view.admission_token,
            admission_expires_at=_at(view.admission_expires_at),
        )
