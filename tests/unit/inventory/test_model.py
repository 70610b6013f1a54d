"""Offers, intervals and the calendar of slots (kontingent.inventory.model).

The rule under test: an offer is a first-dose slot plus the earliest second-dose slot at the
same centre whose Berlin calendar day lies inside the vaccine's interval window, and every slot
of it has a free seat for every person, who sit side by side in the same slots.
"""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.inventory.model import (
    FreeSlot,
    Offer,
    Vaccine,
    count_day_offers,
    day_bounds,
    distance_km,
    interval_days,
    is_valid_interval,
    local_day,
    phone_reserve,
    slot_starts,
)
from kontingent.inventory.offers import MemoryDays, find_offers
from kontingent.inventory.pairing import OfferWish
from tests.unit.properties import examples

# The zone by name, so the reference below does not lean on the constant of the code.
TZ = ZoneInfo("Europe/Berlin")
EARLY = datetime(2000, 1, 1, tzinfo=UTC)
BNT = Vaccine(
    "BNT", "BioNTech", doses=2, interval_min_days=21, interval_max_days=42, min_age=16, max_age=None
)
JNJ = Vaccine(
    "JNJ",
    "Johnson & Johnson",
    doses=1,
    interval_min_days=0,
    interval_max_days=0,
    min_age=18,
    max_age=None,
)


def pair_offers(
    free: list[FreeSlot], vaccine: Vaccine, persons: int, limit: int | None = None
) -> list[Offer]:
    """Offers as the service finds them, over slots in memory, with no lead time and no
    closed day: what pairing alone decides."""
    wish = OfferWish(persons, 10_000 if limit is None else limit)
    if wish.limit == 0:
        return []
    found = find_offers(MemoryDays(free), vaccine, wish, EARLY, date(2100, 1, 1), lambda d: False)
    return asyncio.run(found)


def berlin(y: int, m: int, d: int, h: int = 8, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=TZ)


def slot(slot_id: int, starts_at: datetime, free: int = 5) -> FreeSlot:
    return FreeSlot(slot_id, starts_at, free)


def shape(offer: Offer) -> list[tuple[int, int, int]]:
    """(slot id, dose, person) of every appointment, in the offer's order."""
    return [(a.slot_id, a.dose, a.person) for a in offer.appointments]


# --- pairing -----------------------------------------------------------------------------------


def test_an_offer_pairs_a_first_dose_with_the_earliest_second_dose_in_the_window() -> None:
    first = slot(1, berlin(2026, 1, 12))
    too_early = slot(2, berlin(2026, 2, 1))  # day 20
    earliest = slot(3, berlin(2026, 2, 2, 9))  # day 21
    later = slot(4, berlin(2026, 2, 10))
    offers = pair_offers([later, too_early, earliest, first], BNT, persons=1)
    assert shape(offers[0]) == [(1, 1, 0), (3, 2, 0)]


def test_the_interval_window_includes_both_its_first_and_its_last_day() -> None:
    first = berlin(2026, 1, 12, 19, 40)
    assert is_valid_interval(BNT, first, berlin(2026, 2, 2, 8))  # day 21, earlier in the day
    assert is_valid_interval(BNT, first, berlin(2026, 2, 23, 19, 40))  # day 42
    assert not is_valid_interval(BNT, first, berlin(2026, 2, 1, 19, 40))  # day 20
    assert not is_valid_interval(BNT, first, berlin(2026, 2, 24, 8))  # day 43


def test_a_first_dose_without_a_second_dose_in_the_window_is_not_offered() -> None:
    free = [
        slot(1, berlin(2026, 1, 12)),
        slot(2, berlin(2026, 2, 1)),  # day 20 after slot 1
        slot(3, berlin(2026, 2, 24)),  # day 43 after slot 1
    ]
    offers = pair_offers(free, BNT, persons=1)
    assert all(o.appointments[0].slot_id != 1 for o in offers)


def test_a_slot_without_a_free_seat_is_never_part_of_an_offer() -> None:
    free = [slot(1, berlin(2026, 1, 12), free=0), slot(2, berlin(2026, 2, 2), free=0)]
    assert pair_offers(free, BNT, persons=1) == []
    assert pair_offers([slot(1, berlin(2026, 1, 12)), free[1]], BNT, persons=1) == []


def test_a_couple_sits_side_by_side_in_the_same_two_slots() -> None:
    free = [slot(1, berlin(2026, 1, 12), free=2), slot(2, berlin(2026, 2, 2), free=2)]
    (offer,) = pair_offers(free, BNT, persons=2)
    assert shape(offer) == [(1, 1, 0), (1, 1, 1), (2, 2, 0), (2, 2, 1)]
    assert offer.slot_ids == [1, 1, 2, 2]


def test_a_couple_needs_room_for_two_in_every_slot_of_the_offer() -> None:
    free = [
        slot(1, berlin(2026, 1, 12), free=2),
        slot(2, berlin(2026, 2, 2), free=1),  # earliest partner, but one seat only
        slot(3, berlin(2026, 2, 3), free=2),
    ]
    assert pair_offers(free, BNT, persons=1)[0].slot_ids == [1, 2]
    assert [o.slot_ids for o in pair_offers(free, BNT, persons=2)] == [[1, 1, 3, 3]]


def test_a_single_dose_vaccine_offers_one_appointment_per_person() -> None:
    free = [slot(2, berlin(2026, 1, 13), free=1), slot(1, berlin(2026, 1, 12), free=2)]
    assert [shape(o) for o in pair_offers(free, JNJ, persons=1)] == [[(1, 1, 0)], [(2, 1, 0)]]
    assert [shape(o) for o in pair_offers(free, JNJ, persons=2)] == [[(1, 1, 0), (1, 1, 1)]]


def test_with_a_zero_day_minimum_a_slot_never_pairs_with_itself() -> None:
    same_day = Vaccine("X", "Same day", 2, 0, 0, None, None)
    lone = slot(1, berlin(2026, 1, 12, 8))
    assert pair_offers([lone], same_day, persons=1) == []
    later = slot(2, berlin(2026, 1, 12, 9))
    assert [o.slot_ids for o in pair_offers([later, lone], same_day, persons=1)] == [[1, 2]]


def test_limit_keeps_the_earliest_offers() -> None:
    free = [slot(i, berlin(2026, 1, 12) + timedelta(days=i)) for i in range(40)]
    offers = pair_offers(free, BNT, persons=1, limit=3)
    assert [o.appointments[0].slot_id for o in offers] == [0, 1, 2]
    assert pair_offers(free, BNT, persons=1, limit=0) == []


def test_first_doses_sharing_one_second_dose_seat_count_once() -> None:
    firsts = [slot(i, berlin(2026, 1, 12, 9 + i), free=1) for i in range(3)]
    second = slot(9, berlin(2026, 2, 2, 9), free=1)
    assert len(pair_offers([*firsts, second], BNT, persons=1)) == 3  # shown: any one of them


# --- Berlin calendar days across DST --------------------------------------------------------


def test_the_interval_counts_berlin_days_across_the_march_dst_change() -> None:
    first = berlin(2026, 3, 20, 9)  # CET
    second = berlin(2026, 4, 10, 9)  # CEST: only 20 days and 23 hours later
    assert second.astimezone(UTC) - first.astimezone(UTC) < timedelta(days=21)
    assert interval_days(first, second) == 21
    assert is_valid_interval(BNT, first, second)
    free = [slot(1, first.astimezone(UTC)), slot(2, second.astimezone(UTC))]
    assert [o.slot_ids for o in pair_offers(free, BNT, persons=1)] == [[1, 2]]


def test_the_interval_counts_berlin_days_across_the_october_dst_change() -> None:
    first = berlin(2026, 10, 4, 19, 40)  # CEST
    last_day = berlin(2026, 11, 15, 19, 40)  # CET: 42 days and 1 hour later
    assert last_day.astimezone(UTC) - first.astimezone(UTC) > timedelta(days=42)
    assert interval_days(first, last_day) == 42
    assert is_valid_interval(BNT, first, last_day)


def test_the_interval_uses_the_berlin_day_not_the_utc_day() -> None:
    first = berlin(2026, 6, 1, 0, 30)  # still 31 May in UTC
    second = berlin(2026, 6, 21, 23, 0)  # 21 June in UTC as well: 21 UTC days
    assert (second.astimezone(UTC).date() - first.astimezone(UTC).date()).days == 21
    assert interval_days(first, second) == 20
    assert not is_valid_interval(BNT, first, second)
    assert local_day(first.astimezone(UTC)) == date(2026, 6, 1)


# --- the calendar of slots --------------------------------------------------------------------


def test_slot_starts_fill_the_opening_hours_and_the_last_slot_ends_by_closing() -> None:
    starts = slot_starts(date(2026, 1, 12), time(8), time(20), 20)
    assert len(starts) == 36
    assert starts[0] == berlin(2026, 1, 12, 8)
    assert starts[-1] == berlin(2026, 1, 12, 19, 40)
    assert all(b - a == timedelta(minutes=20) for a, b in pairwise(starts))


def test_a_slot_that_would_run_past_closing_time_is_not_made() -> None:
    starts = slot_starts(date(2026, 1, 12), time(8), time(9, 10), 20)
    assert [s.time() for s in starts] == [time(8), time(8, 20), time(8, 40)]
    assert slot_starts(date(2026, 1, 12), time(8), time(8, 19), 20) == []


@pytest.mark.parametrize(
    ("day", "offset_hours"),
    [(date(2026, 3, 29), 2), (date(2026, 10, 25), 1), (date(2026, 7, 1), 2)],
)
def test_slot_starts_are_berlin_wall_times_on_dst_days(day: date, offset_hours: int) -> None:
    starts = slot_starts(day, time(8), time(20), 20)
    assert len(starts) == 36
    assert starts[0].utcoffset() == timedelta(hours=offset_hours)
    assert starts[0].astimezone(UTC).hour == 8 - offset_hours


def test_day_bounds_run_from_berlin_midnight_to_the_midnight_after_the_last_day() -> None:
    start, end = day_bounds(date(2026, 1, 12), date(2026, 1, 18))
    assert start == berlin(2026, 1, 12, 0)
    assert end == berlin(2026, 1, 19, 0)
    assert start.astimezone(UTC) == datetime(2026, 1, 11, 23, tzinfo=UTC)


def test_day_bounds_of_dst_days_are_23_and_25_hours_long() -> None:
    spring = day_bounds(date(2026, 3, 29), date(2026, 3, 29))
    autumn = day_bounds(date(2026, 10, 25), date(2026, 10, 25))
    assert spring[1].astimezone(UTC) - spring[0].astimezone(UTC) == timedelta(hours=23)
    assert autumn[1].astimezone(UTC) - autumn[0].astimezone(UTC) == timedelta(hours=25)


# --- distances ---------------------------------------------------------------------------------

BIELEFELD = (52.021, 8.535)
MUENSTER = (51.962, 7.626)


def test_bielefeld_to_muenster_is_about_63_km_as_the_crow_flies() -> None:
    assert distance_km(*BIELEFELD, *MUENSTER) == pytest.approx(62.6, abs=2.0)


def test_berlin_to_munich_is_about_504_km() -> None:
    assert distance_km(52.520, 13.405, 48.137, 11.576) == pytest.approx(504, abs=5)


def test_a_centre_is_0_km_from_itself_and_antipodes_half_the_earth_apart() -> None:
    assert distance_km(*BIELEFELD, *BIELEFELD) == 0
    assert distance_km(0, 0, 0, 180) == pytest.approx(20015, abs=1)


latitudes = st.floats(min_value=-90, max_value=90, allow_nan=False)
longitudes = st.floats(min_value=-180, max_value=180, allow_nan=False)


@examples()
@given(latitudes, longitudes, latitudes, longitudes)
def test_distance_is_symmetric_and_never_negative(
    lat1: float, lon1: float, lat2: float, lon2: float
) -> None:
    there = distance_km(lat1, lon1, lat2, lon2)
    assert there == pytest.approx(distance_km(lat2, lon2, lat1, lon1), abs=1e-6)
    assert 0 <= there <= 20016


# --- properties against a brute-force reference -----------------------------------------------


def berlin_day(at: datetime) -> date:
    return at.astimezone(TZ).date()


def clock_minute(at: datetime) -> int:
    local = at.astimezone(TZ)
    return local.hour * 60 + local.minute


def reference_partners(
    free: list[FreeSlot], vaccine: Vaccine, persons: int
) -> dict[int, datetime | None]:
    """Brute force: each usable first-dose slot -> start of its partner (None: one dose):
    among all slots that fit, the day nearest first + recommended, then the clock time
    nearest the first dose's, earlier on ties."""
    usable = [s for s in free if s.free >= persons]
    found: dict[int, datetime | None] = {}
    for first in usable:
        if vaccine.doses == 1:
            found[first.id] = None
            continue
        aim = berlin_day(first.starts_at).toordinal() + vaccine.recommended_days
        fits = [
            s
            for s in usable
            if s.starts_at > first.starts_at
            and vaccine.interval_min_days
            <= (berlin_day(s.starts_at) - berlin_day(first.starts_at)).days
            <= vaccine.interval_max_days
        ]
        if fits:
            best = min(
                fits,
                key=lambda s: (
                    abs(berlin_day(s.starts_at).toordinal() - aim),
                    berlin_day(s.starts_at),
                    abs(clock_minute(s.starts_at) - clock_minute(first.starts_at)),
                    s.starts_at,
                ),
            )
            found[first.id] = best.starts_at
    return found


@st.composite
def vaccines(draw: st.DrawFn) -> Vaccine:
    doses = draw(st.sampled_from([1, 2]))
    if doses == 1:
        return JNJ
    low = draw(st.integers(0, 4))
    high = draw(st.integers(low, low + 4))
    recommended = draw(st.one_of(st.none(), st.integers(low, high)))
    return Vaccine("V", "Vaccine", 2, low, high, None, None, recommended)


# Base days just before both DST changes, so the random calendars cross them.
BASE_DAYS = [date(2026, 3, 24), date(2026, 10, 20), date(2026, 1, 12)]


@st.composite
def free_slots(draw: st.DrawFn) -> list[FreeSlot]:
    base = draw(st.sampled_from(BASE_DAYS))
    cells = draw(
        st.lists(
            st.tuples(
                st.integers(0, 12),
                st.sampled_from([0, 30, 23 * 60 + 30, 8 * 60]),
                st.integers(0, 3),
            ),
            max_size=25,
        )
    )
    slots = []
    for slot_id, (day, minute, free) in enumerate(cells, start=1):
        start = datetime.combine(base + timedelta(days=day), time(0), TZ)
        slots.append(FreeSlot(slot_id, start + timedelta(minutes=minute), free))
    # Half the time the database hands them over in UTC: the rule must not care.
    if draw(st.booleans()):
        slots = [FreeSlot(s.id, s.starts_at.astimezone(UTC), s.free) for s in slots]
    return slots


PROPERTY = examples(300)


@PROPERTY
@given(free_slots(), vaccines(), st.sampled_from([1, 2]))
def test_every_offer_keeps_the_interval_and_capacity_rules(
    free: list[FreeSlot], vaccine: Vaccine, persons: int
) -> None:
    by_id = {s.id: s for s in free}
    for offer in pair_offers(free, vaccine, persons):
        assert len(offer.appointments) == vaccine.doses * persons
        doses = [[a for a in offer.appointments if a.dose == d] for d in (1, 2)][: vaccine.doses]
        for appointments in doses:
            # Side by side: every person of the dose in the same slot, with a seat each.
            assert sorted(a.person for a in appointments) == list(range(persons))
            assert len({a.slot_id for a in appointments}) == 1
            assert by_id[appointments[0].slot_id].free >= persons
            assert all(a.starts_at == by_id[a.slot_id].starts_at for a in appointments)
        if vaccine.doses == 2:
            first, second = doses[0][0].starts_at, doses[1][0].starts_at
            assert first < second
            days = (berlin_day(second) - berlin_day(first)).days
            assert vaccine.interval_min_days <= days <= vaccine.interval_max_days


@PROPERTY
@given(free_slots(), vaccines(), st.sampled_from([1, 2]))
def test_no_offer_is_missed_that_brute_force_finds(
    free: list[FreeSlot], vaccine: Vaccine, persons: int
) -> None:
    offers = pair_offers(free, vaccine, persons)
    expected = reference_partners(free, vaccine, persons)
    firsts = [o.appointments[0].slot_id for o in offers]
    assert sorted(firsts) == sorted(expected)  # one offer per first-dose slot, none missed
    for offer in offers:
        partner = expected[offer.appointments[0].slot_id]
        if partner is not None:  # and the partner is the one the rule picks
            assert offer.appointments[-1].starts_at == partner


@PROPERTY
@given(free_slots(), vaccines(), st.sampled_from([1, 2]), st.integers(0, 6))
def test_offers_come_earliest_first_and_a_limit_keeps_a_prefix(
    free: list[FreeSlot], vaccine: Vaccine, persons: int, limit: int
) -> None:
    offers = pair_offers(free, vaccine, persons)
    starts = [o.appointments[0].starts_at for o in offers]
    assert starts == sorted(starts)
    assert pair_offers(free, vaccine, persons, limit) == offers[:limit]


# --- Counting from seats per day (the public feed) -------------------------------------------


def seats_by_day(free: list[FreeSlot]) -> dict[int, int]:
    days: dict[int, int] = {}
    for s in free:
        day = local_day(s.starts_at).toordinal()
        days[day] = days.get(day, 0) + s.free
    return days


def test_counting_by_day_pairs_inside_the_window_only() -> None:
    monday = date(2026, 1, 12).toordinal()
    days = {monday: 3, monday + 21: 2, monday + 43: 5}
    assert count_day_offers(days, BNT) == 2  # the third day is past 42 days from the first
    assert count_day_offers(days, JNJ) == 10
    assert count_day_offers({}, BNT) == 0


# --- the phone share --------------------------------------------------------------------------


def test_small_slots_keep_a_seat_every_few_slots_not_none() -> None:
    assert phone_reserve([1] * 10, 20) == [0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
    assert phone_reserve([3] * 5, 20) == [0, 1, 0, 1, 1]  # 15 seats: 3 kept
    assert phone_reserve([24, 24], 20) == [4, 5]  # 4.8 each: 9 of 48
    assert phone_reserve([4, 4], 0) == [0, 0] and phone_reserve([4, 2], 100) == [4, 2]
    assert phone_reserve([], 20) == []


@examples()
@given(st.lists(st.integers(0, 40), max_size=60), st.integers(0, 100))
def test_a_contingent_keeps_its_share_rounded_down_and_each_slot_its_own(
    capacities: list[int], percent: int
) -> None:
    kept = phone_reserve(capacities, percent)
    assert sum(kept) == sum(capacities) * percent // 100  # within one seat of the share
    for capacity, n in zip(capacities, kept, strict=True):
        exact = capacity * percent / 100
        assert 0 <= n <= capacity and math.floor(exact) <= n <= math.ceil(exact)
