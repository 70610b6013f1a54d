"""Which slots make an offer: the first dose on a day and part of day people may choose, the
second at the recommended interval near the same time of day.

Invariants kept here (pure functions, standard library only):
- No first dose starts before `earliest` (now plus the lead time), falls on a closed day, on
  a day the person may not have it (their age on that day decides), or outside the chosen day
  and part of day; every slot of an offer has room for all its persons side by side.
- The second dose falls on the open day with room in [first + min, first + max] nearest to
  first + recommended (the earlier of two as near), and on that day in the slot nearest the
  first dose's clock time (the earlier of two as near): people keep their time of day, and
  different first doses get different second doses rather than all the earliest one.
- Parts of the day are local (Europe/Berlin) times: morning before 12:00, afternoon 12:00 to
  17:00, evening from 17:00.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from kontingent.clock import BERLIN
from kontingent.inventory.model import FreeSlot, Vaccine

# Minutes after local midnight each part of the day covers, end excluded.
PARTS: dict[str, tuple[int, int]] = {
    "morning": (0, 12 * 60),
    "afternoon": (12 * 60, 17 * 60),
    "evening": (17 * 60, 24 * 60),
}

Closed = Callable[[date], bool]
DayRanges = tuple[tuple[date, date], ...]  # (first, last) day, both included


@dataclass(frozen=True, slots=True)
class OfferWish:
    """What a person asks for; the defaults are the earliest offers on any day."""

    persons: int = 1
    limit: int = 10
    day: date | None = None
    part: str | None = None
    # The days a first dose may fall on (the age rule); None: every day.
    first_days: DayRanges | None = None

    def __post_init__(self) -> None:
        if self.part is not None and self.part not in PARTS:
            raise ValueError(f"part of day must be one of {', '.join(PARTS)}, not {self.part!r}")


@lru_cache(maxsize=1 << 15)
def minute_of_day(at: datetime) -> int:
    """The Berlin minute of the day of `at`; kept per instant, since pairing asks it of the
    same slots' starts over and over (a time-zone conversion each time was a tenth of a cold
    offers read)."""
    local = at.astimezone(BERLIN)
    return local.hour * 60 + local.minute


def part_of(at: datetime) -> str:
    minute = minute_of_day(at)
    return next(name for name, (lo, hi) in PARTS.items() if lo <= minute < hi)


def day_allowed(day: date, wish: OfferWish, closed: Closed) -> bool:
    """Whether a first dose may fall on `day` at all (lead time aside)."""
    if wish.day is not None and day != wish.day:
        return False
    if wish.first_days is not None and not any(a <= day <= b for a, b in wish.first_days):
        return False
    return not closed(day)


def first_doses(
    slots: Iterable[FreeSlot], wish: OfferWish, earliest: datetime
) -> Iterator[FreeSlot]:
    """The slots of one day that may hold the first dose, in the order given (start order)."""
    lo, hi = PARTS[wish.part] if wish.part else (0, 24 * 60)
    for slot in slots:
        fits = slot.free >= wish.persons and slot.starts_at >= earliest
        if fits and lo <= minute_of_day(slot.starts_at) < hi:
            yield slot


def second_days(
    first_day: date,
    vaccine: Vaccine,
    seats: Mapping[int, int],
    persons: int,
    closed: Closed,
) -> list[int]:
    """The days (ordinals) a second dose may fall on, nearest the recommended day first.

    `seats`: free seats per day over at least the window, as read (a day with no free seat
    released when read is not in it, and is not tried: reading its slots would find none).
    A day in it with fewer seats than persons comes after every day with enough, not never:
    a cached sum may be short (a booking another process announced can be counted twice
    until the next refresh, "too few, never too many"), and a day it hides would hide a slot
    that is free."""
    lo, hi = vaccine.second_dose_days(first_day)
    aim = first_day.toordinal() + vaccine.recommended_days
    days = [d for d in range(lo, hi + 1) if d in seats and not closed(date.fromordinal(d))]
    return sorted(days, key=lambda d: (seats.get(d, 0) < persons, abs(d - aim), d))


def nearest_slot(slots: Sequence[FreeSlot], first: FreeSlot, persons: int) -> FreeSlot | None:
    """The slot with room for `persons` nearest to the first dose's clock time; after the
    first dose itself (with a zero-day minimum interval a slot must not pair with itself)."""
    aim = minute_of_day(first.starts_at)
    fitting = [s for s in slots if s.free >= persons and s.starts_at > first.starts_at]
    if not fitting:
        return None
    return min(fitting, key=lambda s: (abs(minute_of_day(s.starts_at) - aim), s.starts_at))


def window_of(first_day: date, vaccine: Vaccine) -> tuple[date, date]:
    """The days whose free seats `second_days` needs for a first dose on `first_day`."""
    lo, hi = vaccine.second_dose_days(first_day)
    return date.fromordinal(lo), date.fromordinal(hi)
