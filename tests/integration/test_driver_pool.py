"""The plain asyncpg pool for the booking statement: its connections find the schema and
plan each prepared statement once (a generic plan), instead of planning the booking's
eight-part statement again on every execution."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kontingent.config import Settings
from kontingent.db import Database, make_engine

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    if settings.is_sqlite:
        pytest.skip("the plain asyncpg pool exists on PostgreSQL only")
    database = Database(make_engine(settings.database_url, schema=settings.database_schema))
    yield database
    await database.dispose()


async def test_driver_connections_use_the_schema_and_generic_plans(
    db: Database, settings: Settings
) -> None:
    async def look(conn: object) -> tuple[str, str]:
        row = await conn.fetchrow(  # type: ignore[attr-defined]
            "SELECT current_schema(), current_setting('plan_cache_mode')"
        )
        return row[0], row[1]

    schema, mode = await db.run_driver(look)
    assert schema == (settings.database_schema or "public")
    assert mode == "force_generic_plan"


async def test_a_prepared_statement_is_planned_once_and_reused(db: Database) -> None:
    statement = "SELECT count(*) FROM slots WHERE id = ANY($1::bigint[])"

    async def run_and_count_plans(conn: object) -> tuple[int, int]:
        for ids in ([1, 2], [3], [4, 5, 6], [7], [8], [9], [10]):
            await conn.fetchval(statement, ids)  # type: ignore[attr-defined]
        row = await conn.fetchrow(  # type: ignore[attr-defined]
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            statement,
        )
        return row[0], row[1]

    generic, custom = await db.run_driver(run_and_count_plans)
    assert custom == 0
    assert generic == 7
