"""Centres, vaccines and slots, and the rule that turns free slots into offers.

Invariants kept here (pure functions, standard library only):
- An offer never holds a first dose alone: for a two-dose vaccine every person gets a first-dose
  slot and a second-dose slot at the same centre, the second inside the vaccine's interval
  window counted in calendar days in Europe/Berlin.
- An offer for several persons puts them side by side: the same slot for each dose, with room
  for all of them.
- A contingent keeps for the phone channel floor(its seats x share) seats, spread over its
  slots in start order (`phone_reserve`), never more in a slot than the slot has.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from kontingent.clock import BERLIN

EARTH_RADIUS_KM = 6371.0
MINUTES_PER_JAB = 5  # one lane vaccinates one person every five minutes


@dataclass(frozen=True, slots=True)
class Vaccine:
    code: str
    name: str
    doses: int
    interval_min_days: int
    interval_max_days: int
    min_age: int | None
    max_age: int | None
    # Where a second dose goes when the calendar allows; None: the minimum interval.
    interval_recommended_days: int | None = None

    @property
    def recommended_days(self) -> int:
        """The recommended interval, kept inside [min, max] whatever was configured."""
        wanted = self.interval_recommended_days
        if wanted is None:
            return self.interval_min_days
        return min(max(wanted, self.interval_min_days), self.interval_max_days)

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


def make_offer(slots: Sequence[FreeSlot], persons: int) -> Offer:
    return Offer(
        tuple(
            Appointment(slot.id, slot.starts_at, dose, person)
            for dose, slot in enumerate(slots, start=1)
            for person in range(persons)
        )
    )


def count_day_offers(
    free_by_day: Mapping[int, int], vaccine: Vaccine, first_until: int | None = None
) -> int:
    """`count_offers` for one person from free seats per local day (keyed by the day's
    `date.toordinal()`) instead of per slot: the public feed reads a few rows per centre and
    vaccine (`slot_days`), never the slots.

    The same greedy matching: first-dose days in order, each seat taking a seat on the
    earliest day of its second-dose window that has one left, and a day's seats going to
    earlier first doses before they serve as first doses themselves. With a minimum interval
    of a day or more this gives what `count_offers` gives for the same seats, since every
    slot of a day has the same window; with a zero-day minimum a first dose may pair inside
    its own day, which this counts without asking whether a later slot is free that day.
    `first_until`: the last day (ordinal) a first dose may fall on; later days only serve as
    second doses (a count over a horizon, so its cost does not follow the days on file).
    """
    return sum(day_offers(free_by_day, vaccine, first_until).values())


def day_offers(
    free_by_day: Mapping[int, int], vaccine: Vaccine, first_until: int | None = None
) -> dict[int, int]:
    """`count_day_offers` per first-dose day (ordinal): the offers whose first dose falls on
    that day, in the same one pass (days without one are left out)."""
    last_first = first_until if first_until is not None else max(free_by_day, default=0)
    if vaccine.doses == 1:
        return {d: n for d, n in free_by_day.items() if n > 0 and d <= last_first}
    days = sorted(d for d, n in free_by_day.items() if n > 0)
    left = [free_by_day[d] for d in days]
    shortest, longest = vaccine.interval_min_days, vaccine.interval_max_days
    found: dict[int, int] = {}
    j = 0
    for i, day in enumerate(days):
        if day > last_first:
            break
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
            found[day] = found.get(day, 0) + taken
    return found


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


def slot_capacity(lanes: int, slot_minutes: int) -> int:
    """The seats of one slot: each lane vaccinates one person per MINUTES_PER_JAB, and a
    slot shorter than that still seats one person per lane."""
    return lanes * max(1, slot_minutes // MINUTES_PER_JAB)


def day_bounds(first_day: date, last_day: date) -> tuple[datetime, datetime]:
    """The instants that start `first_day` and end `last_day` in Europe/Berlin."""
    return (
        datetime.combine(first_day, time(0), BERLIN),
        datetime.combine(last_day + timedelta(days=1), time(0), BERLIN),
    )


def phone_reserve(capacities: Iterable[int], percent: int) -> list[int]:
    """The seats each slot of a contingent (in start order) keeps for the phone channel.

    Rounded on the running total, not per slot: slot i keeps floor(S_i * p / 100) -
    floor(S_{i-1} * p / 100), S_i being the capacity of the slots up to i. So the
    contingent keeps floor(total * p / 100) seats, within one seat of its exact share; each
    slot keeps its own share rounded down or up; and slots too small to keep a seat each
    (capacity 1 to 3 at 20 %) keep one every few slots (every fifth one-seat slot at 20 %),
    spread over the day, instead of none at all.
    """
    kept, total, before = [], 0, 0
    for capacity in capacities:
        total += capacity
        upto = total * percent // 100
        kept.append(upto - before)
        before = upto
    return kept
