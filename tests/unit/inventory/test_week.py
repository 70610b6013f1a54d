"""The week view's counts and states (kontingent.inventory.week), from seats per day only.

The rules under test: a day counts what could be booked with the first dose on it alone (for
a two-dose vaccine the smaller of its seats and the seats of the open days of its second-dose
window); a day without a count says why; paging stays between this week and the week of the
horizon's last day.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kontingent.inventory.model import Vaccine
from kontingent.inventory.week import (
    HORIZON_DAYS,
    DayState,
    WeekFacts,
    monday_of,
    pairs_on,
    week_bounds,
    week_days,
    week_of,
)
from tests.unit.properties import examples

BNT = Vaccine("BNT", "BioNTech", 2, 21, 42, 16, None)
JNJ = Vaccine("JNJ", "Johnson & Johnson", 1, 0, 0, 18, None)
MONDAY = date(2026, 1, 12)
GOOD_FRIDAY = date(2026, 4, 3)


def never_closed(_: date) -> bool:
    return False


def facts(**changes: object) -> WeekFacts:
    base: dict[str, object] = {
        "today": MONDAY,
        "earliest_day": MONDAY,
        "last_day": MONDAY + timedelta(days=100),
        "closed": never_closed,
        "allowed": lambda _: True,
        "persons": 1,
    }
    return WeekFacts(**{**base, **changes})  # type: ignore[arg-type]


def ordinal(day: date, offset: int = 0) -> int:
    return (day + timedelta(days=offset)).toordinal()


def test_a_two_dose_day_counts_the_pairs_its_second_dose_window_can_take() -> None:
    seats = {ordinal(MONDAY): 10, ordinal(MONDAY, 21): 3, ordinal(MONDAY, 42): 4}
    assert pairs_on(ordinal(MONDAY), seats, BNT, never_closed) == 7
    seats[ordinal(MONDAY, 30)] = 100
    assert pairs_on(ordinal(MONDAY), seats, BNT, never_closed) == 10
    # Seats outside the window (a day short of it, a day past it) pair with nothing.
    outside = {ordinal(MONDAY): 10, ordinal(MONDAY, 20): 50, ordinal(MONDAY, 43): 50}
    assert pairs_on(ordinal(MONDAY), outside, BNT, never_closed) == 0


def test_second_doses_on_a_closed_day_are_not_counted() -> None:
    first = GOOD_FRIDAY - timedelta(days=21)
    seats = {first.toordinal(): 5, GOOD_FRIDAY.toordinal(): 5}
    assert pairs_on(first.toordinal(), seats, BNT, never_closed) == 5
    assert pairs_on(first.toordinal(), seats, BNT, lambda d: d == GOOD_FRIDAY) == 0


def test_a_one_dose_day_counts_its_seats() -> None:
    assert pairs_on(ordinal(MONDAY), {ordinal(MONDAY): 9}, JNJ, never_closed) == 9
    assert pairs_on(ordinal(MONDAY), {}, JNJ, never_closed) == 0


@given(
    own=st.integers(0, 50),
    window=st.dictionaries(st.integers(21, 42), st.integers(0, 20), max_size=8),
)
@examples(20)
def test_pairs_of_one_day_are_its_seats_or_its_window_seats_whichever_is_fewer(
    own: int, window: dict[int, int]
) -> None:
    seats = {ordinal(MONDAY, d): n for d, n in window.items()}
    seats[ordinal(MONDAY)] = own
    assert pairs_on(ordinal(MONDAY), seats, BNT, never_closed) == min(own, sum(window.values()))


def test_every_day_without_a_count_says_why() -> None:
    start = monday_of(date(2026, 3, 30))  # the week of Good Friday
    seats = {ordinal(start, d): 4 for d in range(7)}
    shown = week_days(
        start,
        seats,
        JNJ,
        facts(
            today=start + timedelta(days=1),
            earliest_day=start + timedelta(days=2),
            last_day=start + timedelta(days=5),
            closed=lambda d: d == GOOD_FRIDAY,
        ),
    )
    assert [(d.day.day, d.state, d.free) for d in shown] == [
        (30, DayState.PAST, 0),
        (31, DayState.TOO_SOON, 0),  # today, but the lead time ends tomorrow
        (1, DayState.FREE, 4),
        (2, DayState.FREE, 4),
        (3, DayState.CLOSED, 0),  # Good Friday, seats or not
        (4, DayState.FREE, 4),
        (5, DayState.NOT_BOOKABLE, 0),  # after the campaign's last day
    ]


def test_a_day_with_fewer_seats_than_persons_is_booked_out_for_them() -> None:
    seats = {ordinal(MONDAY, 1): 1, ordinal(MONDAY, 2): 0, ordinal(MONDAY, 3): 2}
    alone = week_days(MONDAY, seats, JNJ, facts())
    couple = week_days(MONDAY, seats, JNJ, facts(persons=2))
    assert [d.state for d in alone[1:4]] == [DayState.FREE, DayState.FULL, DayState.FREE]
    assert [d.state for d in couple[1:4]] == [DayState.FULL, DayState.FULL, DayState.FREE]
    assert [d.free for d in couple[1:4]] == [0, 0, 2]


def test_the_persons_first_dose_days_decide_which_days_count() -> None:
    later = MONDAY + timedelta(days=3)
    seats = {ordinal(MONDAY, d): 4 for d in range(7)}
    shown = week_days(MONDAY, seats, JNJ, facts(allowed=lambda d: d >= later))
    assert [d.state for d in shown[:4]] == [DayState.NOT_BOOKABLE] * 3 + [DayState.FREE]


def test_the_lead_time_day_says_too_soon_when_only_slots_before_it_were_free() -> None:
    # The caller counts only the slots after the lead time on its day; `soon` is the rest.
    seats = {ordinal(MONDAY): 0}
    assert week_days(MONDAY, seats, JNJ, facts(), soon=3)[0].state is DayState.TOO_SOON
    assert week_days(MONDAY, seats, JNJ, facts(), soon=0)[0].state is DayState.FULL


def test_paging_runs_from_this_week_to_the_week_of_the_horizons_last_day() -> None:
    wednesday = MONDAY + timedelta(days=2)
    far = MONDAY + timedelta(days=365)
    first, last = week_bounds(wednesday, far)
    assert first == MONDAY
    assert last == monday_of(wednesday + timedelta(days=HORIZON_DAYS - 1))
    assert week_of(None, wednesday, far) == MONDAY
    assert week_of(MONDAY - timedelta(days=30), wednesday, far) == MONDAY  # never before today
    assert week_of(far, wednesday, far) == last
    assert week_of(MONDAY + timedelta(days=9), wednesday, far) == MONDAY + timedelta(days=7)
    # A campaign that ends sooner than the horizon ends the paging with it.
    assert week_bounds(wednesday, MONDAY + timedelta(days=10))[1] == MONDAY + timedelta(days=7)
