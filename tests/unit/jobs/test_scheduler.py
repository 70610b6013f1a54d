"""The scheduler with a FixedClock: one pass runs what is due, nothing sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta

from kontingent.clock import FixedClock
from kontingent.jobs.service import Job, Scheduler
from tests.support import T0


def recording(name: str, runs: list[tuple[str, datetime]], result: int = 1) -> Job:
    async def work(now: datetime) -> int:
        runs.append((name, now))
        return result

    return Job(name, timedelta(seconds=30), work)


async def test_a_job_runs_at_once_then_each_interval() -> None:
    clock = FixedClock(T0)
    runs: list[tuple[str, datetime]] = []
    scheduler = Scheduler(clock, [recording("a", runs)])
    assert await scheduler.run_due() == {"a": 1}
    clock.advance(timedelta(seconds=29))
    assert await scheduler.run_due() == {}
    clock.advance(timedelta(seconds=1))
    assert await scheduler.run_due() == {"a": 1}
    assert [at for _, at in runs] == [T0, T0 + timedelta(seconds=30)]


async def test_a_failing_job_does_not_stop_the_others_and_is_tried_again() -> None:
    clock = FixedClock(T0)
    runs: list[tuple[str, datetime]] = []
    attempts = 0

    async def broken(now: datetime) -> int:
        nonlocal attempts
        attempts += 1
        raise RuntimeError("database away")

    scheduler = Scheduler(
        clock, [Job("broken", timedelta(seconds=10), broken), recording("b", runs)]
    )
    assert await scheduler.run_due() == {"b": 1}
    clock.advance(timedelta(seconds=10))
    await scheduler.run_due()
    assert attempts == 2


async def test_run_forever_returns_after_stop() -> None:
    clock = FixedClock(T0)
    runs: list[tuple[str, datetime]] = []
    scheduler = Scheduler(clock, [])

    async def stop_when_run(now: datetime) -> int:
        runs.append(("stop", now))
        scheduler.stop()
        return 0

    scheduler.jobs.append(Job("stop", timedelta(seconds=1), stop_when_run))
    await scheduler.run_forever(tick_s=0)
    assert runs == [("stop", T0)]
