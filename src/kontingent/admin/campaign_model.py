"""What an admin may set for the campaign as a whole: the booking window, the waiting room,
the phone share.

Invariants kept here:
- Pure: each part is checked whole (after a change is merged into what is stored), every
  wrong field named with what to write instead, in one answer.
- The window is ordered (`booking_from` < `booking_until`), both with their offsets.
- The waiting room's admission rate is at least `MIN_RATE` per second and at most
  `MAX_RATE` (what the CLI accepts, with a ceiling no deployment reaches); its opening is a
  whole minute.
- A phone share is a percentage from 0 to 100.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from kontingent.admin.cohorts_model import opening_problems

MIN_RATE = 0.01
MAX_RATE = 100_000.0
MODES = ("off", "scheduled", "auto")


@dataclass(frozen=True, slots=True)
class Window:
    booking_from: datetime
    booking_until: datetime


@dataclass(frozen=True, slots=True)
class Room:
    """The operator's part of the waiting room (waiting_room/model.py `RoomConfig`)."""

    mode: str
    opens_at: datetime | None
    rate: float


def window_problems(window: Window) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in ("booking_from", "booking_until"):
        if getattr(window, name).tzinfo is None:
            found[name] = "give the time with its offset, like 2021-01-25T08:00+01:00"
    if not found and window.booking_from >= window.booking_until:
        found["booking_until"] = "the window ends after it begins: give a later end"
    return found


def room_problems(room: Room) -> dict[str, str]:
    found: dict[str, str] = {}
    if room.mode not in MODES:
        found["waiting_room.mode"] = "off, scheduled or auto"
    if not MIN_RATE <= room.rate <= MAX_RATE:
        found["waiting_room.rate"] = f"give admissions per second from {MIN_RATE} to {MAX_RATE:g}"
    found.update(opening_problems(room.opens_at, "waiting_room.opens_at"))
    return found


def share_problems(percent: int) -> dict[str, str]:
    if not 0 <= percent <= 100:
        return {"phone_share_percent": f"a percentage from 0 to 100, not {percent}"}
    return {}


def changes_of(old: object, new: object, fields: tuple[str, ...]) -> dict[str, list[object]]:
    """Field -> [before, after] of what differs, in JSON's terms (for the audit log)."""
    return {
        name: [_plain(getattr(old, name)), _plain(getattr(new, name))]
        for name in fields
        if getattr(old, name) != getattr(new, name)
    }


def described(value: object, fields: tuple[str, ...]) -> dict[str, object]:
    """Field -> value in JSON's terms (the audit row of something added)."""
    return {name: _plain(getattr(value, name)) for name in fields}


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()  # as stored, whatever zone it came in
    if isinstance(value, frozenset | set):
        return sorted(value)
    return value
