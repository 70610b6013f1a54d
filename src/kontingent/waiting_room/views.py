"""What people in line are told: the view of a ticket, and the room's refusals.

Invariants kept here:
- An admission token is handed out only with an admitted ticket of a guarding room; a room
  that does not guard answers "admitted" without one (`open_door`).
- Before the room admits (before its opening, or while it is paused) nobody is given a
  position: places are not decided yet, or cannot be read.
- Every refusal says what to do next (join the queue, or try again after Retry-After).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from kontingent.errors import Forbidden, KontingentError, RateLimited
from kontingent.waiting_room import tokens
from kontingent.waiting_room.model import RoomConfig, poll_after, position_of, wait_at
from kontingent.waiting_room.store import Step, TicketState

PAUSED_RETRY_AFTER_S = 10
JOIN_HINT = "join the queue at POST /api/v1/queue and wait until you are admitted"


class WaitingRoomPaused(RateLimited):
    """The store is unreachable: the room fails closed."""

    status = 503


class AdmissionRefused(Forbidden):
    """A guarded call came without a valid admission."""


class TicketExpired(KontingentError):
    """The ticket was admitted but its admission was not used in time."""

    status = 410
    code = "admission_expired"


class SettingsNotStored(KontingentError):
    """An operator's change could not be written to the database: nothing changed."""

    status = 503
    code = "waiting_room_settings_not_stored"


def paused() -> WaitingRoomPaused:
    """The room's store cannot be asked (or its settings read). The place is kept: a ticket
    the store lost rejoins at its score when the store is back (store.py)."""
    return WaitingRoomPaused(
        "the waiting room is paused for a moment because its queue cannot be reached; "
        "nobody is being let in meanwhile and your place is kept: "
        f"try again in {PAUSED_RETRY_AFTER_S} seconds",
        retry_after_s=PAUSED_RETRY_AFTER_S,
        code="waiting_room_paused",
    )


@dataclass(frozen=True, slots=True)
class QueueView:
    ticket: str
    status: str  # "before_opening", "waiting", "admitted"
    position: int | None
    serving: int
    waiting: int
    poll_after_s: float
    estimated_wait_s: float | None
    admission_token: str | None = None
    admission_expires_at: float | None = None
    opens_at: float | None = None
    # While no steady rate gives an estimate: the wait at the room's effective admission
    # rate, which admissions never exceed, so it is the least the wait can be.
    least_wait_s: float | None = None

    @property
    def admitted(self) -> bool:
        return self.status == "admitted"


def open_door(ticket: str, opens_at: float | None) -> QueueView:
    """Admitted while the room does not guard: no admission token, because the door checks
    none now, and a token minted now must not pass the door once the room guards (an
    auto-mode room turning on under load would otherwise meet a stock of them)."""
    return QueueView(ticket, "admitted", None, 0, 0, 0.0, 0.0, opens_at=opens_at)


def queue_view(
    ticket: str,
    state: TicketState,
    step: Step,
    config: RoomConfig,
    steady: float | None,
    secret: str,
    jitter: random.Random,
) -> QueueView:
    """The view of a ticket in `state` at `step`; `steady`: the steady admission rate."""
    if state.status == "admitted" and state.deadline is not None:
        return QueueView(
            ticket, "admitted", None, state.served, state.waiting, 0.0, 0.0,
            tokens.sign(secret, ticket, state.deadline), float(int(state.deadline)),
            config.opens_at,
        )  # fmt: skip
    if not step.admitting or state.rank is None:
        until = (config.opens_at or step.now) - step.now
        wait = poll_after(None, step.rate, until, jitter)
        return QueueView(
            ticket, "before_opening", None, state.served, state.waiting, wait, None,
            opens_at=config.opens_at,
        )  # fmt: skip
    estimate = wait_at(state.rank + 1, steady, step.rate)
    least = (state.rank + 1) / step.rate if step.rate > 0 else None
    return QueueView(
        ticket,
        "waiting",
        position_of(state.served, state.rank),
        state.served,
        state.waiting,
        poll_after(state.rank, step.rate, 0.0, jitter),
        None if estimate is None else round(estimate),
        opens_at=config.opens_at,
        least_wait_s=least,
    )
