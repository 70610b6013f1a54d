"""The centres' checks and slot plan, without I/O: each problem names its field; a plan
never removes or shrinks below a booked seat, keeps the phone reserve within the free seats,
puts new slots on the new hours only, and scales capacity with lanes x minutes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from kontingent.admin.centres_model import (
    Cover,
    Follow,
    Hours,
    Layout,
    SlotRow,
    hours_problems,
    number_problems,
    plan_slots,
)
from kontingent.clock import BERLIN
from kontingent.inventory.model import slot_starts

DAY = date(2026, 1, 13)
RELEASE = datetime(2026, 1, 12, 8, 0, tzinfo=BERLIN)
OLD = Layout(2, 20, {d: Hours(time(8), time(12)) for d in range(7)})


def rows(booked: dict[int, int], capacity: int = 8, days: int = 3) -> list[SlotRow]:
    starts = [
        s for i in range(days) for s in slot_starts(DAY + timedelta(days=i), time(8), time(12), 20)
    ]
    return [
        SlotRow(i + 1, "JNJ", at, capacity, booked.get(i, 0), 0, 7, RELEASE, at.date())
        for i, at in enumerate(starts)
    ]


def follow(new: Layout, percent: int = 0, closed: frozenset[date] = frozenset()) -> Follow:
    cover = Cover(7, "JNJ", DAY, DAY + timedelta(days=2), RELEASE, percent)
    return Follow(OLD, new, [cover], closed, DAY, RELEASE)


def test_each_problem_names_its_field() -> None:
    texts = {0: ("18:00", "08:00"), 1: ("8 Uhr", "12:00"), 2: ("08:00", "08:10")}
    hours, problems = hours_problems(texts, 20)
    assert hours == {}
    assert [(p.field, p.key) for p in problems] == [
        ("hours.monday", "admin.centres.err.order"),
        ("hours.tuesday.opens", "admin.centres.err.time"),
        ("hours.wednesday", "admin.centres.err.too_short"),
    ]
    assert [p.field for p in number_problems(0, 300)] == ["lanes", "slot_minutes"]
    assert number_problems(4, 15) == []


def test_shorter_hours_keep_the_booked_slot_and_more_lanes_scale_capacity() -> None:
    new = Layout(4, 20, {d: Hours(time(8), time(10)) for d in range(7)})
    plan = plan_slots(follow(new), rows({11: 3}))  # 11:40 on the first day is booked
    assert plan.kept == [12] and 12 not in plan.removed
    assert len(plan.removed) == 3 * 6 - 1 and plan.added == []
    assert {r.capacity for r in plan.resized} == {16}


def test_a_closed_day_plans_no_slot_and_longer_hours_add_slots_in_the_contingent() -> None:
    new = Layout(2, 20, {d: Hours(time(8), time(13)) for d in range(7)})
    plan = plan_slots(follow(new, closed=frozenset({DAY})), rows({}))
    assert len(plan.removed) == 12  # the closed day's
    assert [a.starts_at.date() for a in plan.added] == [DAY + timedelta(days=1)] * 3 + [
        DAY + timedelta(days=2)
    ] * 3
    assert all(a.contingent_id == 7 and a.bookable_from == RELEASE for a in plan.added)


@settings(max_examples=60, deadline=None)
@given(
    booked=st.dictionaries(st.integers(0, 35), st.integers(1, 8), max_size=10),
    lanes=st.integers(1, 8),
    minutes=st.sampled_from([10, 15, 20, 30]),
    closes=st.integers(9, 18),
    percent=st.integers(0, 50),
)
def test_no_plan_touches_a_booked_seat_or_overfills_the_reserve(
    booked: dict[int, int], lanes: int, minutes: int, closes: int, percent: int
) -> None:
    existing = rows(booked)
    new = Layout(lanes, minutes, {d: Hours(time(8), time(closes)) for d in range(7)})
    plan = plan_slots(follow(new, percent), existing)
    by_id = {s.id: s for s in existing}
    assert all(by_id[i].booked == 0 for i in plan.removed)
    assert all(by_id[i].booked > 0 for i in plan.kept)
    for r in plan.resized:
        assert r.capacity >= by_id[r.id].booked
        assert 0 <= r.phone_reserved <= r.capacity - by_id[r.id].booked
    for a in plan.added:
        assert 0 <= a.phone_reserved <= a.capacity
        assert a.starts_at.time() < time(closes)
    touched = set(plan.removed) | set(plan.kept) | {r.id for r in plan.resized}
    assert len(touched) == len(plan.removed) + len(plan.kept) + len(plan.resized)
