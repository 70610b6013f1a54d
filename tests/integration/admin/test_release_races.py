"""Two schedulers (two worker processes: two sets of services, two connection pools) racing
on PostgreSQL for the same due release, released together by a barrier: exactly one executes
it, with one audit row and one batch of waitlist SMS."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kontingent.app import Services, build_services
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.jobs.service import scheduler_for
from kontingent.staff.audit import Channel
from kontingent.staff.tables import audit_log
from tests.integration.admin.test_releases import ADA, waitlist_sms, wish
from tests.support import BIELEFELD, T0, fill_centre, phone

WAITING = 8
ROUNDS = 3


@pytest.fixture
async def other(settings: Settings, clock: FixedClock) -> AsyncIterator[Services]:
    built = build_services(settings, clock)
    yield built
    await built.db.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("settings", ["postgres"], indirect=True)
async def test_two_schedulers_execute_a_release_exactly_once(
    services: Services, other: Services, clock: FixedClock
) -> None:
    await fill_centre(services.db, BIELEFELD, "JNJ")
    for i in range(WAITING):
        await services.waitlist.join(phone(i), BIELEFELD, "JNJ", 1)
    ids = []
    for n in range(ROUNDS):  # several releases due at once, each raced for
        day = wish().first_day + timedelta(days=2 * n)
        made = await services.releases.schedule(
            ADA, wish(first_day=day, last_day=day, at=T0 + timedelta(minutes=5)), Channel.api, None
        )
        ids.append(made.id)
    now = T0 + timedelta(minutes=5)
    clock.set(now)
    barrier = asyncio.Barrier(2)

    async def run(worker: Services) -> int:
        due = await worker.releases.due(now)  # each sees every release due...
        assert sorted(due) == ids
        await barrier.wait()  # ... and both claim them at once
        return await worker.releases.execute(due, now)

    counts = await asyncio.gather(run(services), run(other))
    assert sum(counts) == ROUNDS  # one claimed each release, the other none of it
    assert [r["releases_executed"] for r in await asyncio.gather(
        scheduler_for(services).run_due(), scheduler_for(other).run_due()
    )] == [0, 0]  # fmt: skip
    for release_id in ids:
        assert (await services.releases.get(release_id)).status == "done"
    async with services.db.read() as conn:
        executed = await conn.execute(
            select(audit_log.c.target, func.count())
            .where(audit_log.c.action == "release.execute")
            .group_by(audit_log.c.target)
        )
        assert dict(executed.all()) == {f"release:{i}": 1 for i in ids}
    assert await waitlist_sms(services) == {phone(i): 1 for i in range(WAITING)}
