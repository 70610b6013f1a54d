"""Fixtures: a seeded database on SQLite and on PostgreSQL, reset before every test.

PostgreSQL is required: when it cannot be reached the run stops with a loud message, unless
KONTINGENT_SKIP_POSTGRES=1 says to skip its tests on purpose. Each pytest run works in a schema
of its own, so parallel runs on one machine do not see each other.
"""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.app import Services, build_services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.db import Database, make_engine
from kontingent.demo.seed import DemoSize, seed_demo
from kontingent.eligibility.service import load_postcodes
from kontingent.migrations import upgrade
from kontingent.schema import districts, postcodes
from tests.support import PG_URL, T0, drop_schema

TEST_SIZE = DemoSize(weeks=4, centres=3, phone_share_percent=0)  # phone share: its own tests
MUTABLE_TABLES = (
    "population",
    "appointments",
    "persons",
    "bookings",
    "idempotency_keys",
    "verifications",
    "outbox",
    "dev_mailbox",
    "waiting_room_settings",
    "audit_log",
    "staff_sessions",
    "staff_user_centres",
    "staff_users",
)


def _postgres_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=2):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _postgres_reachable():
        return
    if os.environ.get("KONTINGENT_SKIP_POSTGRES") == "1":
        banner = "PostgreSQL is unreachable: its tests are SKIPPED (KONTINGENT_SKIP_POSTGRES=1)"
        config.get_terminal_reporter().write_line("!" * 20 + " " + banner, red=True, bold=True)
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=banner))
        return
    pytest.exit(
        "PostgreSQL is unreachable on 127.0.0.1:5432. Start it (see README) or set "
        "KONTINGENT_SKIP_POSTGRES=1 to skip its tests on purpose.",
        returncode=3,
    )


def pytest_collection_finish(session: pytest.Session) -> None:
    """Everything imported by now lives as long as the run: moved out of the collector's sight.
    Each test's app, engines and clients die in reference cycles and are promoted before they
    die, so the run made a full collection for about every other test, and each one walked
    the whole heap of imported modules again: 40 s of the 187 s of tests/integration/api
    (gc.callbacks timing; 18 s frozen; see the ci2 branch's report)."""
    gc.collect()
    gc.freeze()


async def _seed(url: str, schema: str | None) -> None:
    db = Database(make_engine(url, schema=schema))
    try:
        if schema:
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await upgrade(db.engine)
        await seed_demo(db, FixedClock(T0), TEST_SIZE)
    finally:
        await db.dispose()


async def _reset(url: str, schema: str | None) -> None:
    db = Database(make_engine(url, schema=schema))
    try:
        async with db.write() as conn:
            if db.dialect == "postgresql":
                await conn.exec_driver_sql(
                    f"TRUNCATE {', '.join(MUTABLE_TABLES)} RESTART IDENTITY CASCADE"
                )
            else:
                for table in MUTABLE_TABLES:
                    await conn.exec_driver_sql(f"DELETE FROM {table}")  # noqa: S608
            await _drop_releases(conn)
            await conn.exec_driver_sql("UPDATE slots SET booked = 0 WHERE booked <> 0")
            await conn.exec_driver_sql(
                "UPDATE slots SET phone_reserved = 0 WHERE phone_reserved <> 0"
            )
    finally:
        await db.dispose()


async def _drop_releases(conn: AsyncConnection) -> None:
    """Contingent releases and the contingents and slots they made (admin/), which the
    seeded reference data must not keep from one test to the next."""
    made = (
        (
            await conn.exec_driver_sql(
                "SELECT contingent_id FROM release_centres WHERE contingent_id IS NOT NULL"
            )
        )
        .scalars()
        .all()
    )
    await conn.exec_driver_sql("DELETE FROM release_centres")
    if made:
        ids = ", ".join(str(int(i)) for i in made)
        await conn.exec_driver_sql(f"DELETE FROM slots WHERE contingent_id IN ({ids})")  # noqa: S608
        await conn.exec_driver_sql(f"DELETE FROM contingents WHERE id IN ({ids})")  # noqa: S608
    await conn.exec_driver_sql("DELETE FROM releases")


@pytest.fixture(scope="session")
def pg_schema() -> Iterator[str]:
    schema = f"kt_test_{secrets.token_hex(4)}"
    asyncio.run(_seed(PG_URL, schema))
    yield schema
    asyncio.run(drop_schema(schema))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "kontingent.sqlite3"
    asyncio.run(_seed(f"sqlite+aiosqlite:///{path}", None))
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a freshly reset, seeded database of each dialect."""
    if request.param == "sqlite":
        path = tmp_path / "kontingent.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url, schema = f"sqlite+aiosqlite:///{path}", None
    else:
        url, schema = PG_URL, request.getfixturevalue("pg_schema")
        asyncio.run(_reset(url, schema))
    return Settings(
        database_url=url,
        database_schema=schema,
        demo=True,
        availability_ttl_s=0,
        feed_ttl_s=0,
        embedded_relay=False,
        secret_key="test-secret-" + "x" * 20,
        rate_limits=False,  # on in tests/integration/test_rate_limits.py
        # The tests count seats, not seconds: on a CI machine whose disk stalls commits, a
        # race's queue on one slot's lock outlasted the production 2 s lock timeout and two
        # races ended in 503s (CI of 2026-12-05), on a busy one the 5 s wait for a pooled
        # connection. The timeouts themselves are tested in test_database_faults.py and
        # test_overload.py, which set their own.
        db_lock_timeout_s=30.0,
        db_statement_timeout_s=60.0,
        db_pool_wait_s=60.0,  # 300 racing bookings queue for 5 driver connections
    )


@pytest.fixture(autouse=True)
def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff passwords hashed with argon2's cheapest parameters in tests: the real algorithm,
    a fortieth of the cost (the default takes half a second per hash on a busy machine).
    tests/unit/staff/test_service_defaults.py holds the service to its real default."""
    from argon2 import PasswordHasher, profiles

    from kontingent.staff import service

    monkeypatch.setattr(
        service, "PasswordHasher", lambda: PasswordHasher.from_parameters(profiles.CHEAPEST)
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
async def services(settings: Settings, clock: FixedClock) -> AsyncIterator[Services]:
    built = build_services(settings, clock)
    yield built
    await built.db.dispose()


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Litestar:
    return create_app(settings, clock)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as c:
        yield c


@pytest.fixture
async def hochsauerland(services: Services) -> AsyncIterator[None]:
    """The demo's test size seeds three districts; 59969 needs the Hochsauerlandkreis. Taken
    out again after the test: PostgreSQL's reference tables outlive one test."""
    async with services.db.write() as conn:
        await conn.execute(
            insert(districts).values(id=15, region_id=1, name="Hochsauerlandkreis", kind="Kreis")
        )
    await load_postcodes(services.db, seeded_districts_only=True)
    services.inventory.forget_catalogue()
    yield
    async with services.db.write() as conn:
        await conn.execute(delete(postcodes).where(postcodes.c.district_id == 15))
        await conn.execute(delete(districts).where(districts.c.id == 15))
