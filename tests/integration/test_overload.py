"""Overload: a request that finds no database connection free within the pool wait is
answered 503 `overloaded` with Retry-After at once, instead of queueing for half a minute
and ending as a 500; the connection's holder is not disturbed; and the refusal is counted,
for the waiting room to slow admission on."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from kontingent.config import Settings
from kontingent.db import OVERLOADS, Database, make_engine
from kontingent.errors import Overloaded

WAIT_S = 0.2


@pytest.fixture
async def tiny(settings: Settings) -> Database:
    if settings.is_sqlite:
        pytest.skip("SQLite's pool is not sized: its writers queue on the file lock instead")
    return Database(
        make_engine(
            settings.database_url,
            pool_size=1,
            schema=settings.database_schema,
            pool_wait_s=WAIT_S,
        )
    )


async def test_no_free_connection_is_answered_overloaded_with_retry_after(
    tiny: Database,
) -> None:
    before = OVERLOADS.total
    try:
        async with tiny.read() as held:
            with pytest.raises(Overloaded) as refused:
                async with tiny.read():
                    pass
            assert (await held.execute(text("SELECT 1"))).scalar() == 1  # holder unharmed
        assert refused.value.status == 503
        assert refused.value.retry_after_s > 0
        assert "try again" in refused.value.message
        assert OVERLOADS.total == before + 1  # counted for the waiting room
        async with tiny.read() as again:  # the connection is free again
            assert (await again.execute(text("SELECT 1"))).scalar() == 1
    finally:
        await tiny.dispose()


@pytest.mark.postgres
async def test_the_driver_pool_refuses_the_same_way(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("the plain asyncpg pool exists on PostgreSQL only")
    db = Database(
        make_engine(
            settings.database_url, pool_size=2, schema=settings.database_schema, pool_wait_s=WAIT_S
        )
    )
    gate = asyncio.Event()

    async def hold(conn: object) -> None:
        await gate.wait()

    try:
        holders = [asyncio.create_task(db.run_driver(hold)) for _ in range(2)]  # 2 // 2 -> 2
        await asyncio.sleep(0)  # let both take their connection
        before = OVERLOADS.total
        with pytest.raises(Overloaded):
            await db.run_driver(hold)
        assert OVERLOADS.total == before + 1
        gate.set()
        await asyncio.gather(*holders)
        assert await db.run_driver(lambda conn: conn.fetchval("SELECT 1")) == 1
    finally:
        await db.dispose()
