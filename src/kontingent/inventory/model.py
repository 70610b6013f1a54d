"""Centres, vaccines and slots, and the rule that turns free slots into offers.

Invariants kept here (pure functions, standard library only):
- An offer never holds a first dose alone: for a two-dose vaccine every person gets a first-dose
  slot and a second-dose slot at the same centre, the second inside the vaccine's interval
  window counted in calendar days in Europe/Berlin.
- An offer for several persons puts them side by side: the same slot for each dose, with room
  for all of them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kontingent.clock import BERLIN

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True, slots=True)
class Vaccine:
    code: str
    name: str
    doses: int
    interval_min_days: int
    interval_max_days: int
    min_age: int | None
    max_age: int | None

    def second_dose_days(self, first: date) -> tuple[int, int]:
        """The first and last calendar day (as ordinals) a second dose may fall on."""
        return (
            first.toordinal() + self.interval_min_days,
            first.toordinal() + self.interval_max_days,
        )


@dataclass(frozen=True, slots=True)
class Centre:
    id: int
    name: str
    district_id: int
    district: str
    region_id: int
    street: str
    postcode: str
    city: str
    lat: float
    lon: float
    slot_minutes: int = 15  # how long one appointment lasts here (calendar events use it)


@dataclass(frozen=True, slots=True)
class FreeSlot:
    """A released slot with `free` seats left, as last read from the database."""

    id: int
    starts_at: datetime
    free: int


@dataclass(frozen=True, slots=True)
class Appointment:
    slot_id: int
    starts_at: datetime
    dose: int
    person: int


@dataclass(frozen=True, slots=True)
class Offer:
    appointments: tuple[Appointment, ...]

    @property
    def slot_ids(self) -> list[int]:
        return [a.slot_id for a in self.appointments]


def local_day(at: datetime) -> date:
    return at.astimezone(BERLIN).date()


def interval_days(first: datetime, second: datetime) -> int:
    return (local_day(second) - local_day(first)).days


def is_valid_interval(vaccine: Vaccine, first: datetime, second: datetime) -> bool:
    days = interval_days(first, second)
    return vaccine.interval_min_days <= days <= vaccine.interval_max_days


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance; good enough to rank centres by nearness."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _offer(slots: Sequence[FreeSlot], persons: int) -> Offer:
    return Offer(
        tuple(
            Appointment(slot.id, slot.starts_at, dose, person)
            for dose, slot in enumerate(slots, start=1)
            for person in range(persons)
        )
    )


class _SecondDoseIndex:
    """Free slots ordered by local day, to find the earliest partner for a first dose."""

    def __init__(self, slots: Sequence[FreeSlot]) -> None:
        self._slots = sorted(slots, key=lambda s: s.starts_at)
        self._days = [local_day(s.starts_at).toordinal() for s in self._slots]

    def earliest(
        self, first_day: int, last_day: int, persons: int, after: datetime
    ) -> FreeSlot | None:
        i = bisect.bisect_left(self._days, first_day)
        while i < len(self._slots) and self._days[i] <= last_day:
            # `after`: with a zero-day minimum interval a slot must not pair with itself.
            if self._slots[i].free >= persons and self._slots[i].starts_at > after:
                return self._slots[i]
            i += 1
        return None


def pair_offers(
    free: Sequence[FreeSlot],
    vaccine: Vaccine,
    persons: int,
    limit: int | None = None,
    first_day_ok: Callable[[date], bool] | None = None,
) -> list[Offer]:
    """The earliest offers for `persons` side by side, at most `limit` of them.

    `free` are the bookable slots of one centre and vaccine; each first-dose slot makes at
    most one offer, paired with the earliest second-dose slot that fits. `first_day_ok`, when
    given, says on which local days a first dose may fall (the person's age on that day
    decides, see kontingent.eligibility.model); second doses are not limited by it.
    """
    ordered = sorted((s for s in free if s.free >= persons), key=lambda s: s.starts_at)
    firsts = [s for s in ordered if first_day_ok is None or first_day_ok(local_day(s.starts_at))]
    if vaccine.doses == 1:
        return [_offer([s], persons) for s in firsts[:limit]]
    index = _SecondDoseIndex(ordered)
    offers: list[Offer] = []
    for first in firsts:
        if limit is not None and len(offers) >= limit:
            break
        lo, hi = vaccine.second_dose_days(local_day(first.starts_at))
        second = index.earliest(lo, hi, persons, after=first.starts_at)
        if second is not None:
            offers.append(_offer([first, second], persons))
    return offers


def count_offers(free: Sequence[FreeSlot], vaccine: Vaccine, persons: int = 1) -> int:
    """How many offers for `persons` could all be booked at once: offers disjoint in seats.

    Not the number of offers one could be shown (`pair_offers` lets many first doses share a
    second-dose seat); this counts every seat once. A greedy matching in start order: each
    first-dose slot takes, seat group by seat group, the earliest second-dose slot with room
    that fits its interval, and a slot's seats go to earlier first doses (as their second
    dose) before it serves as a first dose itself. Every offer counted could be booked
    alongside all the others; the count may fall short of the largest possible matching in
    rare layouts, never above it. O(n log n): one pointer moves forward through the seconds.
    """
    ordered = sorted((s for s in free if s.free >= persons), key=lambda s: s.starts_at)
    if vaccine.doses == 1:
        return sum(s.free // persons for s in ordered)
    left = [s.free for s in ordered]
    days = [local_day(s.starts_at).toordinal() for s in ordered]
    count = j = 0
    for i, first in enumerate(ordered):
        lo, hi = vaccine.second_dose_days(local_day(first.starts_at))
        j = max(j, bisect.bisect_left(days, lo))
        while left[i] >= persons:
            # Skipped slots never come back: seats only get fewer, firsts only get later.
            while (
                j < len(ordered)
                and days[j] <= hi
                and (left[j] < persons or ordered[j].starts_at <= first.starts_at)
            ):
                j += 1
            if j == len(ordered) or days[j] > hi:
                break
            left[i] -= persons
            left[j] -= persons
            count += 1
    return count


def count_day_offers(free_by_day: Mapping[int, int], vaccine: Vaccine) -> int:
    """`count_offers` for one person from free seats per local day (keyed by the day's
    `date.toordinal()`) instead of per slot: the public feed reads a few rows per centre and
    vaccine (`slot_days`), never the slots.

    The same greedy matching: first-dose days in order, each seat taking a seat on the
    earliest day of its second-dose window that has one left, and a day's seats going to
    earlier first doses before they serve as first doses themselves. With a minimum interval
    of a day or more this gives what `count_offers` gives for the same seats, since every
    slot of a day has the same window; with a zero-day minimum a first dose may pair inside
    its own day, which this counts without asking whether a later slot is free that day.
    """
    if vaccine.doses == 1:
        return sum(n for n in free_by_day.values() if n > 0)
    days = sorted(d for d, n in free_by_day.items() if n > 0)
    left = [free_by_day[d] for d in days]
    shortest, longest = vaccine.interval_min_days, vaccine.interval_max_days
    count = j = 0
    for i, day in enumerate(days):
        while j < len(days) and days[j] < day + shortest:
            j += 1
        while left[i] > 0:
            # Days skipped never come back: seats only get fewer, windows only move later.
            while j < len(days) and days[j] <= day + longest and left[j] < (2 if j == i else 1):
                j += 1
            if j == len(days) or days[j] > day + longest:
                break
            taken = min(left[i], left[j]) if j != i else left[i] // 2
            left[i] -= taken
            left[j] -= taken
            count += taken
    return count


def slot_starts(day: date, opens: time, closes: time, minutes: int) -> list[datetime]:
    """Start times of the slots of one opening day, in Europe/Berlin, as aware datetimes.

    A slot must end by closing time; the day's slots are `minutes` apart from opening.
    """
    start = datetime.combine(day, opens, BERLIN)
    end = datetime.combine(day, closes, BERLIN)
    step = timedelta(minutes=minutes)
    starts = []
    while start + step <= end:
        starts.append(start)
        start += step
    return starts


def day_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The instants that start `first_day` and end `last_day` in Europe/Berlin."""
    return (
        datetime.combine(first_day, time(0), BERLIN),
        datetime.combine(last_day + timedelta(days=1), time(0), BERLIN),
    )
