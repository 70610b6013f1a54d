"""Scheduled jobs on SQLite and PostgreSQL: the waitlist SMS goes out once per waiting person
when offers come free, however many schedulers (worker processes) run the pass at once; and
in embedded mode the web process runs the jobs itself."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update

from kontingent.app import Services, build_services, create_app
from kontingent.cli import _relay_until_stopped
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.jobs.service import WAITLIST_EVERY, scheduler_for
from kontingent.schema import outbox, slots, waitlist
from tests.support import BIELEFELD, fill_centre, phone

WAITING = 12
DEADLINE_S = 20.0


@pytest.fixture
async def other(settings: Settings, clock: FixedClock) -> AsyncIterator[Services]:
    """A second set of services on the same database: another worker process."""
    built = build_services(settings, clock)
    yield built
    await built.db.dispose()


@pytest.fixture(autouse=True)
async def no_waitlist(services: Services) -> None:
    async with services.db.write() as conn:
        await conn.execute(waitlist.delete())


async def sms_per_phone(services: Services) -> dict[str, int]:
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(outbox.c.recipient, func.count())
            .where(outbox.c.channel == "sms", outbox.c.body.like("%nicht mehr auf der Warteliste%"))
            .group_by(outbox.c.recipient)
        )
        return {str(r): int(n) for r, n in rows.all()}


async def free_seats(services: Services, centre_id: int, vaccine: str) -> None:
    async with services.db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == centre_id, slots.c.vaccine_code == vaccine)
            .values(booked=0)
        )


async def test_two_schedulers_notify_each_waiting_person_once(
    services: Services, other: Services, clock: FixedClock
) -> None:
    await fill_centre(services.db, BIELEFELD, "BNT")
    for i in range(WAITING):
        await services.waitlist.join(phone(i), BIELEFELD, "BNT", 1)
    first, second = scheduler_for(services), scheduler_for(other)
    assert (await first.run_due())["waitlist_released"] == 0  # nothing free yet
    assert await sms_per_phone(services) == {}

    await free_seats(services, BIELEFELD, "BNT")  # a release, or a wave of cancellations
    services.inventory.forget_readings()
    other.inventory.forget_readings()
    clock.advance(WAITLIST_EVERY)
    runs = await asyncio.gather(first.run_due(), second.run_due())
    assert sum(r["waitlist_released"] for r in runs) == WAITING
    assert await sms_per_phone(services) == {phone(i): 1 for i in range(WAITING)}

    clock.advance(WAITLIST_EVERY)
    again = await asyncio.gather(first.run_due(), second.run_due())
    assert [r["waitlist_released"] for r in again] == [0, 0]
    assert await sms_per_phone(services) == {phone(i): 1 for i in range(WAITING)}


async def test_embedded_mode_runs_the_jobs_in_the_web_process(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    await services.waitlist.join(phone(1), BIELEFELD, "MOD", 1)  # MOD is free at Bielefeld
    app = create_app(dataclasses.replace(settings, embedded_relay=True), clock)
    async with AsyncTestClient(app):
        deadline = time.monotonic() + DEADLINE_S
        while await sms_per_phone(services) != {phone(1): 1}:
            assert time.monotonic() < deadline, "the embedded scheduler sent no waitlist SMS"
            await asyncio.sleep(0.05)  # polling the database with a deadline


async def test_the_worker_runs_relay_and_jobs_until_sigterm(
    services: Services, clock: FixedClock
) -> None:
    """`kontingent worker`'s loop: the waitlist job queues the SMS, the relay delivers it, and
    SIGTERM stops both cleanly."""
    await services.waitlist.join(phone(1), BIELEFELD, "MOD", 1)
    worker = asyncio.create_task(_relay_until_stopped(services.relay, scheduler_for(services)))
    deadline = time.monotonic() + DEADLINE_S
    while await delivered(services, phone(1)) == 0:
        assert not worker.done(), worker
        assert time.monotonic() < deadline, "the worker sent no waitlist SMS"
        await asyncio.sleep(0.05)  # polling the database with a deadline
    os.kill(os.getpid(), signal.SIGTERM)  # the worker's own handler takes it
    await asyncio.wait_for(worker, timeout=DEADLINE_S)
    assert await sms_per_phone(services) == {phone(1): 1}


async def delivered(services: Services, number: str) -> int:
    async with services.db.read() as conn:
        query = select(func.count()).where(
            outbox.c.recipient == number, outbox.c.sent_at.is_not(None)
        )
        return int((await conn.execute(query.select_from(outbox))).scalar_one())
