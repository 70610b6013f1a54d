"""The waiting room's pure rules: order, admission arithmetic, poll intervals, estimates."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.waiting_room.model import (
    BURST_S,
    OVERLOAD_WINDOW_S,
    POLL_MAX_S,
    POLL_MIN_S,
    SUSTAIN_WARMUP_S,
    WINDOW_S,
    Bucket,
    Mode,
    RoomConfig,
    accrue,
    admits,
    auto_decision,
    effective_rate,
    guards,
    poll_after,
    quiet_seconds,
    score_for,
    steady_rate,
    wait_at,
)

OPENS = 1_000_000.0
times = st.floats(min_value=OPENS - 3600, max_value=OPENS + 3600, allow_nan=False)
draws = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


@given(st.lists(st.tuples(times, draws), min_size=2, max_size=50))
def test_everyone_early_stands_before_everyone_late_and_late_ones_keep_arrival_order(
    joins: list[tuple[float, float]],
) -> None:
    scored = sorted((score_for(at, OPENS, draw), at) for at, draw in joins)
    arrivals = [at for _, at in scored]
    early = [at for at in arrivals if at < OPENS]
    late = [at for at in arrivals if at >= OPENS]
    assert arrivals == early + late  # the early all come first
    assert late == sorted(late)  # the late in order of arrival


@given(times, times, draws)
def test_an_early_score_depends_on_the_draw_only(first: float, second: float, draw: float) -> None:
    if first < OPENS and second < OPENS:
        assert score_for(first, OPENS, draw) == score_for(second, OPENS, draw)


def test_without_an_opening_minute_the_queue_is_first_come_first_served() -> None:
    assert score_for(5.0, None, 0.9) < score_for(6.0, None, 0.1)


def test_a_scheduled_room_guards_before_it_opens_but_admits_only_from_the_opening() -> None:
    room = RoomConfig(Mode.SCHEDULED, opens_at=OPENS)
    assert guards(room, False) and not admits(room, False, OPENS - 1)
    assert admits(room, False, OPENS)
    off = RoomConfig(Mode.OFF)
    assert not guards(off, True) and not admits(off, True, OPENS)
    auto = RoomConfig(Mode.AUTO)
    assert not guards(auto, False) and guards(auto, True) and admits(auto, True, 0)


def test_auto_mode_turns_on_above_the_threshold_and_off_only_when_calm_and_empty() -> None:
    assert not auto_decision(False, 100, waiting=0, threshold=100)
    assert auto_decision(False, 101, waiting=0, threshold=100)
    assert auto_decision(True, 60, waiting=0, threshold=100)  # hysteresis
    assert auto_decision(True, 0, waiting=3, threshold=100)  # people still wait
    assert not auto_decision(True, 49, waiting=0, threshold=100)


def test_the_bucket_accrues_at_the_rate_but_saves_no_burst_while_nobody_waits() -> None:
    assert accrue(Bucket(0.0, 0.0), 4.0, 5.0, waiting=100).credit == 20.0
    assert accrue(Bucket(0.0, 0.0), 60.0, 5.0, waiting=100).credit == 5.0 * BURST_S  # a pause
    assert accrue(Bucket(0.0, 0.0), 10.0, 5.0, waiting=0).credit == 5.0
    assert accrue(Bucket(0.0, 0.0), 10.0, 0.5, waiting=0).credit == 1.0  # one person at least
    assert accrue(Bucket(3.0, 20.0), 10.0, 5.0, waiting=9).credit == 3.0  # time never runs back


def test_the_measured_booking_rate_caps_admission_only_once_it_means_something() -> None:
    young = effective_rate(100.0, bookings_in_window=5 * WINDOW_S, admitting_for_s=10.0)
    assert young == 100.0
    few = effective_rate(100.0, bookings_in_window=WINDOW_S - 1, admitting_for_s=600.0)
    assert few == 100.0
    capped = effective_rate(100.0, bookings_in_window=20 * WINDOW_S, admitting_for_s=600.0)
    assert capped == 40.0  # twice the 20 bookings per second seen
    floor = effective_rate(100.0, bookings_in_window=WINDOW_S, admitting_for_s=SUSTAIN_WARMUP_S)
    assert floor == 25.0  # never below a quarter of the operator's rate
    assert effective_rate(10.0, bookings_in_window=60 * WINDOW_S, admitting_for_s=600.0) == 10.0


def test_the_wait_is_estimated_only_from_a_steady_admission_rate() -> None:
    steady = [10] * WINDOW_S
    assert wait_at(100, steady_rate(steady), 50.0) == 10.0
    assert wait_at(100, steady_rate(steady), 5.0) == 20.0  # the cap is what will happen
    assert wait_at(100, steady_rate([10] * 5), 50.0) is None  # too little history
    assert wait_at(100, steady_rate([0, 30] * (WINDOW_S // 2)), 50.0) is None  # uneven
    assert wait_at(100, steady_rate([0] * WINDOW_S), 50.0) is None  # nobody let in


@given(st.integers(min_value=0, max_value=10_000_000), st.floats(min_value=0.1, max_value=5000))
def test_polls_stay_within_bounds_and_come_later_the_further_back(ahead: int, rate: float) -> None:
    rng = random.Random(ahead)
    wait = poll_after(ahead, rate, 0.0, rng)
    assert POLL_MIN_S * 0.8 <= wait <= POLL_MAX_S * 1.2 + 0.1
    base = poll_after(ahead, rate, 0.0, _Middle())
    further = poll_after(ahead * 4 + 100, rate, 0.0, _Middle())
    assert further >= base


class _Middle(random.Random):
    """No jitter: uniform(a, b) is its middle."""

    def uniform(self, a: float, b: float) -> float:
        return (a + b) / 2


def test_a_million_waiting_poll_at_most_every_two_minutes_and_jittered() -> None:
    rng = random.Random(1)
    waits = {poll_after(1_000_000, 150.0, 0.0, rng) for _ in range(50)}
    assert max(waits) <= POLL_MAX_S * 1.2 and min(waits) >= POLL_MAX_S * 0.8
    assert len(waits) > 10  # spread out, not all at once
    assert poll_after(3, 150.0, 0.0, _Middle()) == POLL_MIN_S  # near the front: soon


def test_before_the_opening_pages_come_back_around_the_opening() -> None:
    assert poll_after(None, 10.0, 30.0, _Middle()) == 30.0
    assert poll_after(None, 10.0, 3600.0, _Middle()) == 60.0
    assert poll_after(None, 10.0, -5.0, _Middle()) == POLL_MIN_S


def test_requests_refused_as_overloaded_cut_admission_to_the_floor_at_once() -> None:
    assert effective_rate(100.0, 0, admitting_for_s=1.0, overload_quiet_s=0) == 25.0
    assert effective_rate(100.0, 60 * WINDOW_S, 600.0, overload_quiet_s=0) == 25.0
    assert effective_rate(100.0, 0, admitting_for_s=1.0, overload_quiet_s=None) == 100.0


def test_after_the_last_overload_admission_climbs_back_in_a_straight_line() -> None:
    rates = [effective_rate(100.0, 0, 1.0, quiet) for quiet in range(OVERLOAD_WINDOW_S + 2)]
    assert rates[0] == 25.0
    assert rates[OVERLOAD_WINDOW_S // 2] == pytest.approx(62.5)  # halfway back
    assert rates[OVERLOAD_WINDOW_S:] == [100.0, 100.0]
    steps = [b - a for a, b in itertools.pairwise(rates[: OVERLOAD_WINDOW_S + 1])]
    assert steps == pytest.approx([75.0 / OVERLOAD_WINDOW_S] * OVERLOAD_WINDOW_S)
    # The lower of the two cuts holds: a low measured booking rate is not lifted by the climb.
    capped = effective_rate(100.0, 10 * WINDOW_S, 600.0, overload_quiet_s=9)  # sustains 20/s
    assert capped == 25.0  # the bookings cap (its floor, 25) is below the climb (92.5)


@given(st.lists(st.integers(0, 5), min_size=1, max_size=30))
def test_quiet_seconds_counts_back_from_the_current_second(counts: list[int]) -> None:
    quiet = quiet_seconds(counts)
    if not any(counts):
        assert quiet is None
    else:
        assert quiet is not None and counts[len(counts) - 1 - quiet] > 0
        assert not any(counts[len(counts) - quiet :])
