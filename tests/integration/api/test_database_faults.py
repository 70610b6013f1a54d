"""A database that cannot serve: unreachable, cut under a statement, or behind a lock.

Each answer is 503 `database_unavailable` with Retry-After (JSON on the API, the error page
in the person's language on the portal), never a 500 with a traceback per request; a burst
of them is one incident, logged once and counted in `/metrics`; and a statement waits for a
lock no longer than the configured `lock_timeout`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
import structlog
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import text

from kontingent.app import Services, build_services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.db import Database, make_engine
from kontingent.errors import DatabaseUnavailable
from tests.integration.api.test_booking_api import GetToken, book, offer_ids, slot_booked
from tests.integration.api.test_observability import sample
from tests.support import db_counts, error_of, person

Client = AsyncTestClient[Litestar]
CLOSED_PORT_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/test"  # nothing listens on 1
LOCK_TIMEOUT_S = 0.5
API_PATHS = ("/api/v1/centres", "/api/v1/vaccines", "/api/v1/centres/1/offers?vaccine=BNT")
PAGES = ("/?lang=de", "/?lang=en", "/dev/mailbox?lang=de")


@pytest.fixture
async def unreachable(settings: Settings, clock: FixedClock) -> AsyncIterator[Client]:
    """The app pointed at a port where no database listens."""
    app = create_app(dataclasses.replace(settings, database_url=CLOSED_PORT_URL), clock)
    async with AsyncTestClient(app) as c:
        yield c


@pytest.fixture
def app(settings: Settings, clock: FixedClock) -> Litestar:
    """`client`'s app, with a lock timeout short enough for a test."""
    return create_app(dataclasses.replace(settings, db_lock_timeout_s=LOCK_TIMEOUT_S), clock)


def events(logs: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["event"] == name]


async def test_faults_5_an_unreachable_database_answers_503_with_retry_after_logged_once(
    unreachable: Client, settings: Settings
) -> None:
    """A database outage no longer answers 500 and logs a traceback for every request."""
    if settings.is_sqlite:
        pytest.skip("the closed port is a PostgreSQL URL; one run is enough")
    rounds = 5
    with structlog.testing.capture_logs() as logs:
        for _ in range(rounds):
            for path in API_PATHS:
                answer = await unreachable.get(path)
                error = error_of(answer, 503, "database_unavailable")
                assert answer.headers["retry-after"] == "5", path
                assert "try again in 5 seconds" in error["message"]
            for path in PAGES:
                page = await unreachable.get(path)
                assert page.status_code == 503, path
                assert page.headers["content-type"].startswith("text/html")
                assert page.headers["retry-after"] == "5"
                english = "lang=en" in path
                said = "Try again in 5 seconds" if english else "Versuchen Sie es in 5 Sekunden"
                assert said in page.text, page.text
        metrics = (await unreachable.get("/metrics")).text
    refused = rounds * (len(API_PATHS) + len(PAGES))
    assert len(events(logs, "database_unavailable")) == 1, logs
    assert events(logs, "database_unavailable")[0]["reason"] == "unreachable"
    assert "ConnectionRefusedError" in events(logs, "database_unavailable")[0]["error"]
    assert not events(logs, "unhandled_error") and not any("exc_info" in x for x in logs)
    assert sample(metrics, "kontingent_database_refusals_total") == refused
    assert sample(metrics, "kontingent_database_incidents_total") == 1


async def test_faults_5_a_booking_behind_a_held_row_lock_answers_503_within_the_lock_timeout(
    client: Client, svc: Services, get_token: GetToken, settings: Settings
) -> None:
    """A booking no longer waits out a lock held for half a minute after its client gave up."""
    if settings.is_sqlite:
        pytest.skip("lock_timeout is PostgreSQL's; SQLite writers queue on busy_timeout")
    token, ids = await get_token(0), await offer_ids(client)
    before = await db_counts(svc.db)
    with structlog.testing.capture_logs() as logs:
        async with svc.db.write() as holder:  # another session holds the first slot's row
            await holder.execute(
                text("SELECT id FROM slots WHERE id = :id FOR UPDATE"), {"id": ids[0]}
            )
            started = time.monotonic()
            answer = await asyncio.wait_for(
                book(client, token, [person(0)], ids, key="behind-lock"), timeout=20
            )
            waited = time.monotonic() - started
        error = error_of(answer, 503, "database_unavailable")
        assert answer.headers["retry-after"] == "5"
        assert "took too long" in error["message"]
        assert waited < LOCK_TIMEOUT_S + 4, waited  # the lock timeout plus a loaded machine
        assert await db_counts(svc.db) == before  # nothing of the booking stayed
        metrics = (await client.get("/metrics")).text
        again = await book(client, token, [person(0)], ids, key="behind-lock")
    assert again.status_code == 201, again.text  # the token was not spent by the refusal
    assert [await slot_booked(client, i) for i in ids] == [1, 1]
    assert [x["reason"] for x in events(logs, "database_unavailable")] == ["timeout"]
    assert not events(logs, "unhandled_error")
    assert sample(metrics, "kontingent_database_timeouts_total") == 1
    assert sample(metrics, "kontingent_database_refusals_total") == 1


@pytest.fixture
async def one_connection(settings: Settings) -> AsyncIterator[Database]:
    """A database of one pooled connection (and two driver connections) with the timeouts."""
    if settings.is_sqlite:
        pytest.skip("server-side timeouts and backends are PostgreSQL's")
    db = Database(
        make_engine(
            settings.database_url,
            pool_size=1,
            schema=settings.database_schema,
            statement_timeout_s=0.2,
            lock_timeout_s=0.1,
        )
    )
    yield db
    await db.dispose()


async def _terminate(svc: Services, pid: int) -> None:
    """What a PostgreSQL restart does to a connection: its backend ends (waited for)."""
    async with svc.db.read() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})


async def test_faults_5_connections_cut_by_a_restart_answer_503_and_are_replaced(
    one_connection: Database, svc: Services
) -> None:
    """A connection broken under a use case (PostgreSQL restarted) is no 500 either."""
    db = one_connection
    async with db.read() as conn:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()
    await _terminate(svc, pid)  # while the connection waits in the pool
    with pytest.raises(DatabaseUnavailable):
        async with db.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def cut_in_the_middle(conn: Any) -> Any:
        await _terminate(svc, await conn.fetchval("SELECT pg_backend_pid()"))
        return await conn.fetchval("SELECT 1")

    with pytest.raises(DatabaseUnavailable):
        await db.run_driver(cut_in_the_middle)
    async with db.read() as conn:  # new connections in the broken ones' place
        assert (await conn.execute(text("SELECT 1"))).scalar_one() == 1
    assert await db.run_driver(lambda c: c.fetchval("SELECT 1")) == 1
    assert db.outages.totals.incidents == 1


async def test_faults_5_a_statement_past_the_statement_timeout_answers_503(
    one_connection: Database,
) -> None:
    """A slow statement no longer holds its request: cut at the timeout in both pools, 503."""
    db = one_connection
    with pytest.raises(DatabaseUnavailable) as through_engine:
        async with db.read() as conn:
            await conn.execute(text("SELECT pg_sleep(5)"))
    with pytest.raises(DatabaseUnavailable):
        await db.run_driver(lambda c: c.fetchval("SELECT pg_sleep(5)"))
    assert isinstance(through_engine.value.__cause__, Exception)
    assert db.outages.totals.timeouts == 2


async def test_service_connections_carry_the_timeouts_and_plain_engines_none(
    settings: Settings, clock: FixedClock
) -> None:
    if settings.is_sqlite:
        pytest.skip("server-side timeouts are PostgreSQL's")
    defaults = Settings()  # the tests' own settings stretch them (tests/conftest.py)
    svc = build_services(
        dataclasses.replace(
            settings,
            db_statement_timeout_s=defaults.db_statement_timeout_s,
            db_lock_timeout_s=defaults.db_lock_timeout_s,
        ),
        clock,
    )
    show = "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"
    try:
        async with svc.db.read() as conn:
            assert tuple((await conn.execute(text(show))).one()) == ("5s", "2s")
        assert tuple(await svc.db.run_driver(lambda c: c.fetchrow(show))) == ("5s", "2s")
    finally:
        await svc.db.dispose()
    plain = Database(make_engine(settings.database_url, schema=settings.database_schema))
    try:  # migrations, seeds and the benchmarks' loaders: no limit
        async with plain.read() as conn:
            assert tuple((await conn.execute(text(show))).one()) == ("0", "0")
    finally:
        await plain.dispose()


async def test_errors_that_are_not_outages_stay_errors(one_connection: Database) -> None:
    db = one_connection
    with pytest.raises(Exception) as bad_sql:
        async with db.read() as conn:
            await conn.execute(text("SELECT * FROM no_such_table"))
    assert not isinstance(bad_sql.value, DatabaseUnavailable)
    with pytest.raises(asyncpg.UndefinedTableError):
        await db.run_driver(lambda c: c.fetchval("SELECT * FROM no_such_table"))
    assert db.outages.totals.incidents == 0
