"""Scheduled jobs: work that is due by the clock, not by a request.

Invariants kept here:
- Time comes from the injected clock only; `run_due` does one pass (every job whose minute has
  come runs once) and is what tests call, with a FixedClock, instead of waiting.
- A job that fails is logged and tried again at its next interval; it never stops the others.
- Running the scheduler in several processes at once is safe because each job claims its
  work in the database (the waitlist marks an entry notified with a conditional UPDATE in the
  transaction that queues its SMS), never because only one scheduler is expected to run.
- Sent outbox rows are deleted after `SENT_RETENTION`; unsent and parked rows never are.
- Seats kept for the phone channel go to everyone KONTINGENT_PHONE_RELEASE_HOURS before their
  slot starts, at most `phone_share.RELEASE_EVERY` (10 s) late (inventory/phone_share.py).
- Scheduled contingent releases are executed at most `RELEASES_EVERY` (plus a tick) after
  their minute, each exactly once however many schedulers run (`claim_due`, a conditional
  UPDATE); a pass with nothing due only reads one partial index.
- Day-before reminders are not here: the relay queues them (`Relay.run_forever`), claiming
  each appointment once through `appointments.reminded_at`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from kontingent.clock import Clock
from kontingent.inventory.phone_share import RELEASE_EVERY, release_phone_seats
from kontingent.notifications.service import SENT_RETENTION, purge_sent

if TYPE_CHECKING:
    from kontingent.services import Services

log = structlog.get_logger(__name__)

# A contingent released at 08:00 reaches the waiting within this long.
WAITLIST_EVERY = timedelta(seconds=30)
# Sent messages are deleted in small batches once an hour, so the outbox stays the size of
# its backlog plus the retention period instead of growing with every PIN of the rush.
PURGE_EVERY = timedelta(hours=1)
# A release's slots are bookable at its minute without this job (admin/releases_service.py);
# the job marks it done, drops the cached readings and queues the waitlist SMS this late.
RELEASES_EVERY = timedelta(seconds=1)
TICK_S = 1.0  # how often the loop looks at the clock; jobs run at their own intervals


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    work: Callable[[datetime], Awaitable[int]]  # does what is due at `now`; how much it did


class Scheduler:
    def __init__(self, clock: Clock, jobs: Sequence[Job]) -> None:
        self.clock = clock
        self.jobs = list(jobs)
        self.next_at: dict[str, datetime] = {}
        self._stopping = asyncio.Event()

    async def run_due(self) -> dict[str, int]:
        """Run every job that is due now, one after another; what each did."""
        done: dict[str, int] = {}
        for job in self.jobs:
            now = self.clock.now()
            due_at = self.next_at.get(job.name)
            if due_at is not None and now < due_at:
                continue
            self.next_at[job.name] = now + job.every
            try:
                done[job.name] = await job.work(now)
            except Exception:
                log.exception("job_failed", job=job.name)
                continue
            if done[job.name]:
                log.info("job_done", job=job.name, count=done[job.name])
        return done

    async def run_forever(self, tick_s: float = TICK_S) -> None:
        """Run due jobs until `stop()`; a pass in flight finishes first."""
        self._stopping.clear()
        while not self._stopping.is_set():
            await self.run_due()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=tick_s)

    def stop(self) -> None:
        self._stopping.set()


def scheduled_jobs(services: Services) -> list[Job]:
    async def purge_outbox(now: datetime) -> int:
        return await purge_sent(services.db, now - SENT_RETENTION)

    async def release_phone_share(now: datetime) -> int:
        lead = timedelta(hours=services.settings.phone_release_hours)
        return await release_phone_seats(services.db, services.inventory, now, lead)

    return [
        Job("releases_executed", RELEASES_EVERY, services.releases.execute_due),
        Job("phone_seats_released", RELEASE_EVERY, release_phone_share),
        Job("waitlist_released", WAITLIST_EVERY, services.waitlist.notify_released),
        Job("outbox_purged", PURGE_EVERY, purge_outbox),
    ]


def scheduler_for(services: Services) -> Scheduler:
    return Scheduler(services.clock, scheduled_jobs(services))


def embedded_jobs(services: Services) -> Callable[[object], AbstractAsyncContextManager[None]]:
    """The application's lifespan hook: in embedded mode (`settings.embedded_relay`) the web
    process runs the scheduled jobs beside the relay; otherwise `kontingent worker` does."""

    @contextlib.asynccontextmanager
    async def running(_: object) -> AsyncIterator[None]:
        if not services.settings.embedded_relay:
            yield
            return
        task = asyncio.create_task(scheduler_for(services).run_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return running
