"""Free pairs per day over one week of first-dose days: what the portal's week view shows.

Invariants kept here:
- One bounded read of seats per day (days.py `seats_by_day`, through the cached reads the
  offers use) covers the week and the second-dose window of its last day; the day the lead
  time ends on also reads its own slots (the reading offers read first anyway), because its
  seats per day still hold slots that start too soon. No other slots are read or counted, so
  the cost follows the days asked for, never the inventory on file.
- A day's count is what could be booked with the first dose on that day alone: one-dose
  vaccines its seats, two-dose vaccines the pairs `count_day_offers` makes from its seats and
  those of the open days of its second-dose window. Counted per person, like the offers'
  seats; a day with fewer than the persons asked for is booked out for them.
- Every day without a count says why: past, too soon (the lead time), closed (a public
  holiday nobody opened), not bookable (outside the campaign or the person's first-dose
  days), booked out. Paging stays within [this week, the week of the horizon's last day].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from kontingent.inventory.model import Centre, Vaccine, count_day_offers, local_day
from kontingent.inventory.offers import MAX_FIRST_DAYS
from kontingent.inventory.pairing import Closed, DayRanges
from kontingent.inventory.repository import Catalogue

if TYPE_CHECKING:
    from kontingent.inventory.service import Inventory

WEEK_DAYS = 7
HORIZON_DAYS = MAX_FIRST_DAYS  # first-dose days from today one answer of offers looks at


class DayState(StrEnum):
    FREE = "free"
    FULL = "full"
    CLOSED = "closed"
    PAST = "past"
    TOO_SOON = "too_soon"
    NOT_BOOKABLE = "not_bookable"


@dataclass(frozen=True, slots=True)
class WeekDay:
    day: date
    state: DayState
    free: int  # pairs (one-dose vaccines: seats) with the first dose this day; 0 unless FREE


@dataclass(frozen=True, slots=True)
class Week:
    start: date  # a Monday
    days: list[WeekDay]
    previous: date | None  # the Monday before, None when this week holds today
    next: date | None  # the Monday after, None past the horizon


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_bounds(today: date, last_day: date) -> tuple[date, date]:
    """The first and last Monday a person may page to: this week's, and the one of the last
    first-dose day the horizon (and the campaign) allows."""
    last = min(last_day, today + timedelta(days=HORIZON_DAYS - 1))
    return monday_of(today), monday_of(max(last, today))


def week_of(asked: date | None, today: date, last_day: date) -> date:
    """The Monday of the week to show: the asked day's, kept inside the paging bounds."""
    first, last = week_bounds(today, last_day)
    wanted = monday_of(asked) if asked is not None else first
    return min(max(wanted, first), last)


def pairs_on(day: int, seats: Mapping[int, int], vaccine: Vaccine, closed: Closed) -> int:
    """What could be booked with the first dose on `day` (an ordinal), for one person."""
    own = seats.get(day, 0)
    if vaccine.doses == 1 or own <= 0:
        return max(own, 0)
    lo, hi = vaccine.second_dose_days(date.fromordinal(day))
    window = {d: n for d, n in seats.items() if lo <= d <= hi and not closed(date.fromordinal(d))}
    return count_day_offers({**window, day: own}, vaccine, first_until=day)


@dataclass(frozen=True, slots=True)
class WeekFacts:
    """What decides the states of a week's days, apart from the seats."""

    today: date
    earliest_day: date  # the day the lead time ends on
    last_day: date  # the campaign's last bookable day
    closed: Closed
    allowed: Callable[[date], bool]  # the person's first-dose days
    persons: int


def day_state(day: date, facts: WeekFacts) -> DayState | None:
    """Why `day` has no count at all, or None when its seats decide."""
    if day < facts.today:
        return DayState.PAST
    if day < facts.earliest_day:
        return DayState.TOO_SOON
    if day > facts.last_day or not facts.allowed(day):
        return DayState.NOT_BOOKABLE
    if facts.closed(day):
        return DayState.CLOSED
    return None


def week_days(
    start: date, seats: Mapping[int, int], vaccine: Vaccine, facts: WeekFacts, soon: int = 0
) -> list[WeekDay]:
    """The seven days from `start`. `seats`: free seats per day over the week and its
    second-dose windows, the lead time's day counting only slots after it; `soon`: the seats
    of that day that start too soon (all gone: the day says so rather than "booked out")."""
    days = []
    for offset in range(WEEK_DAYS):
        day = start + timedelta(days=offset)
        state = day_state(day, facts)
        free = 0
        if state is None:
            free = pairs_on(day.toordinal(), seats, vaccine, facts.closed)
            state = DayState.FREE if free >= facts.persons else DayState.FULL
            if state is DayState.FULL and day == facts.earliest_day and soon >= facts.persons:
                state = DayState.TOO_SOON
        days.append(WeekDay(day, state, free if state is DayState.FREE else 0))
    return days


def allowed_days(ranges: DayRanges | None) -> Callable[[date], bool]:
    if ranges is None:
        return lambda _: True
    return lambda day: any(a <= day <= b for a, b in ranges)


async def read_week(
    inventory: Inventory,
    catalogue: Catalogue,
    centre: Centre,
    vaccine: Vaccine,
    asked: date | None,
    persons: int,
    first_days: DayRanges | None = None,
) -> Week:
    """The week holding `asked` (this week when None, kept within the paging bounds) for one
    centre and vaccine, from one read of seats per day and at most one day's slots."""
    earliest = inventory.earliest_start()
    today = local_day(inventory.clock.now())
    last_day = local_day(catalogue.campaign.booking_until - timedelta(microseconds=1))
    start = week_of(asked, today, last_day)
    facts = WeekFacts(
        today,
        local_day(earliest),
        last_day,
        lambda day: catalogue.closures.closed(centre.id, day),
        allowed_days(first_days),
        persons,
    )
    seats: dict[int, int] = {}
    soon = 0
    end = start + timedelta(days=WEEK_DAYS - 1)
    first = max(start, facts.earliest_day)
    if inventory.vaccine_open(catalogue, vaccine.code) and first <= min(end, last_day):
        inventory.release_checked(centre.id, vaccine.code)  # as the offers do
        last = end + timedelta(days=vaccine.interval_max_days if vaccine.doses > 1 else 0)
        async with inventory.reads(centre.id, vaccine.code, catalogue) as reads:
            await reads.next_release()  # on the same connection as the seats
            seats = dict((await reads.seats(first, last)).seats)
            if start <= facts.earliest_day <= end:
                slots = (await reads.slots(facts.earliest_day)).free
                later = sum(s.free for s in slots if s.starts_at >= earliest)
                soon = sum(s.free for s in slots) - later
                seats[facts.earliest_day.toordinal()] = later
    else:
        facts = WeekFacts(today, facts.earliest_day, last_day, facts.closed, lambda _: False, 1)
    first_week, last_week = week_bounds(today, last_day)
    return Week(
        start,
        week_days(start, seats, vaccine, facts, soon),
        start - timedelta(days=WEEK_DAYS) if start > first_week else None,
        start + timedelta(days=WEEK_DAYS) if start < last_week else None,
    )
