"""The clock port (kontingent.clock): tests move time instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kontingent.clock import BERLIN, FixedClock, OffsetClock, SystemClock

T0 = datetime(2026, 1, 12, 8, 0, tzinfo=BERLIN)


def test_a_fixed_clock_stands_still_until_told() -> None:
    clock = FixedClock(T0)
    assert clock.now() == clock.now() == T0


def test_advance_moves_the_clock_forward_by_the_given_amount() -> None:
    clock = FixedClock(T0)
    clock.advance(timedelta(minutes=1))
    clock.advance(timedelta(seconds=30))
    assert clock.now() == T0 + timedelta(minutes=1, seconds=30)


def test_set_jumps_to_any_instant_backwards_included() -> None:
    clock = FixedClock(T0)
    later = datetime(2026, 4, 6, 6, 0, tzinfo=UTC)
    clock.set(later)
    assert clock.now() == later
    clock.set(T0 - timedelta(days=1))
    assert clock.now() == T0 - timedelta(days=1)


@pytest.mark.parametrize(
    ("start", "utc_after_two_hours"),
    [
        (datetime(2026, 3, 29, 1, 30, tzinfo=BERLIN), datetime(2026, 3, 29, 2, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ],
)
def test_advancing_a_berlin_clock_across_a_dst_change_counts_real_time(
    start: datetime, utc_after_two_hours: datetime
) -> None:
    clock = FixedClock(start)
    clock.advance(timedelta(hours=1))
    clock.advance(timedelta(hours=1))
    assert clock.now().astimezone(UTC) == utc_after_two_hours
    assert clock.now().tzinfo is BERLIN  # still shows Berlin time


def test_set_refuses_a_naive_time_as_well() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(T0).set(datetime(2026, 1, 12, 8, 0))


def test_a_fixed_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        FixedClock(datetime(2026, 1, 12, 8, 0))


def test_the_system_clock_tells_aware_utc_time() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is UTC
    assert before <= now <= datetime.now(UTC)


def test_an_offset_clock_runs_with_the_system_clock_shifted_by_its_offset() -> None:
    offset = timedelta(hours=-7, minutes=-31)
    before = SystemClock().now()
    shifted = OffsetClock(offset).now()
    after = SystemClock().now()
    assert before + offset <= shifted <= after + offset
