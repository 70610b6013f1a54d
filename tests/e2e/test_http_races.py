"""Race over HTTP: hundreds of concurrent POST /api/v1/bookings against `kontingent serve
--workers 2` (two Granian worker processes, each with its own connection pool), on PostgreSQL
and on one SQLite file (WAL), never overbook.

The database is migrated and seeded in-process at the real time (the server reads the system
clock), the scarcity of tests/integration/test_races.py is made at the Bielefeld centre for
tomorrow, and tokens are minted with the secret key the server is given (the PIN flow allows
five PINs per number a day and is tested elsewhere). Then every request is fired at once
(released by a barrier, HTTP/1.1, at most 100 connections) and the test proves:
- every answer is 201 with a booking, or 409 `slot_taken` with fresh `details.offers` that show
  the free reserve and do not offer again the seat just lost: no 5xx, no other status or code;
- the winners are exactly as many as the capacity allows, per kind of offer;
- with SQL: no slot over capacity, `slots.booked` equal to the booked appointments of every
  slot, every booking with one appointment per person and dose, every booking confirmed in the
  outbox, every requested slot full and the reserve untouched.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from kontingent.clock import SystemClock
from kontingent.db import Database, make_engine
from kontingent.demo.seed import DemoSize, seed_demo
from kontingent.inventory.closures import is_public_holiday
from kontingent.inventory.model import local_day
from kontingent.migrations import upgrade
from tests.integration.test_races import (
    KINDS,
    Request,
    booked_codes,
    expected_winners,
    fill_problems,
    fresh_offer_problems,
    ledger_problems,
    make_scarce,
    mint_tokens,
    race,
    race_capacity,
    race_requests,
    reserve_first,
    slot_fill,
    unconfirmed,
)
from tests.servers import Server, serve
from tests.support import PG_URL, drop_schema

PORTS = (18100, 18199)  # this family's range; other server tests use other ranges
REQUESTS_PER_KIND = 50
SEED = DemoSize(weeks=1, centres=3, phone_share_percent=0)  # tomorrow, quickly; web only


@dataclass(frozen=True, slots=True)
class Deployment:
    url: str
    schema: str | None
    ids: dict[str, int]
    requests: list[Request]
    tokens: list[str]
    server: Server

    def database(self) -> Database:
        return Database(make_engine(self.url, schema=self.schema))


async def _prepare(url: str, schema: str | None, secret: str) -> tuple[Any, ...]:
    """Migrate, seed at the real time, make the scarcity and mint one token per request."""
    db = Database(make_engine(url, schema=schema))
    try:
        if schema:
            async with db.engine.begin() as conn:
                await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await upgrade(db.engine)
        clock = SystemClock()
        await seed_demo(db, clock, SEED)
        # The wall clock's tomorrow, unless it or its second-dose day (21 days on) is a public
        # holiday, which offers leave out (4 December's is 26 December): the next day then.
        day = local_day(clock.now()) + timedelta(days=1)
        while is_public_holiday(day) or is_public_holiday(day + timedelta(days=21)):
            day += timedelta(days=1)
        ids = await make_scarce(db, race_capacity(), day)
        requests = race_requests(ids, REQUESTS_PER_KIND)
        tokens = await mint_tokens(db, secret, [r.phone for r in requests], clock.now())
        return ids, requests, tokens
    finally:
        await db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    secret = secrets.token_urlsafe(32)
    env = {"KONTINGENT_SECRET_KEY": secret, "KONTINGENT_DB_POOL_SIZE": "5"}
    env["KONTINGENT_RATE_LIMITS"] = "false"  # hundreds of bookings from one address at once
    # Seats are counted, not seconds: a stalled CI disk must not turn lock queues into 503s.
    env |= {"KONTINGENT_DB_LOCK_TIMEOUT_S": "30", "KONTINGENT_DB_STATEMENT_TIMEOUT_S": "60"}
    env["KONTINGENT_DB_POOL_WAIT_S"] = "60"
    if request.param == "postgres":
        url, schema = PG_URL, f"kt_race_{secrets.token_hex(4)}"
        # Registered before the server's finaliser, so it runs after the server has stopped.
        request.addfinalizer(lambda: asyncio.run(drop_schema(schema)))
        env["KONTINGENT_DATABASE_SCHEMA"] = schema
    else:
        url, schema = f"sqlite+aiosqlite:///{tmp_path / 'kontingent.sqlite3'}", None
    env["KONTINGENT_DATABASE_URL"] = url
    ids, requests, tokens = asyncio.run(_prepare(url, schema, secret))
    server = serve(request, ["--workers", "2"], env, ports=PORTS, name=f"serve-{request.param}")
    yield Deployment(url, schema, ids, requests, tokens, server)


async def _fire(deployment: Deployment) -> list[httpx.Response | BaseException]:
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(
        base_url=deployment.server.url, limits=limits, timeout=httpx.Timeout(60.0)
    ) as client:
        calls = [
            partial(
                client.post,
                "/api/v1/bookings",
                json={"persons": r.persons, "slot_ids": r.slot_ids},
                headers={"Authorization": f"Bearer {token}"},
            )
            for r, token in zip(deployment.requests, deployment.tokens, strict=True)
        ]
        return await race(calls)


def _judge(
    deployment: Deployment, answers: list[httpx.Response | BaseException]
) -> tuple[dict[str, int], list[str]]:
    """Winners per kind, and everything wrong with the answers."""
    winners = {kind.name: 0 for kind in KINDS}
    problems: list[str] = []
    open_slots, reserve = set(deployment.ids.values()), reserve_first(deployment.ids)
    for request, answer in zip(deployment.requests, answers, strict=True):
        name = request.kind.name
        if isinstance(answer, BaseException):
            problems.append(f"{name}: {answer!r}")
        elif answer.status_code == 201:
            body = answer.json()
            winners[name] += 1
            if len(body["appointments"]) != 2 * request.kind.persons:
                problems.append(f"{name}: booked {body['appointments']}")
        elif answer.status_code == 409 and answer.json()["error"]["code"] == "slot_taken":
            details = answer.json()["error"]["details"]
            problems += fresh_offer_problems(details, request, open_slots, reserve)
        else:
            problems.append(f"{name}: {answer.status_code} {answer.text[:300]}")
    return winners, problems


@pytest.mark.slow
async def test_hundreds_of_bookings_over_http_on_two_workers_never_overbook(
    deployment: Deployment,
) -> None:
    with deployment.server.shown_on_failure():
        answers = await _fire(deployment)
        winners, problems = _judge(deployment, answers)
        assert problems == []
        assert winners == expected_winners()
        db = deployment.database()
        try:
            assert await ledger_problems(db) == []
            codes = await booked_codes(db)
            assert len(codes) == sum(winners.values())
            assert await unconfirmed(db, codes) == []
            assert fill_problems(await slot_fill(db, deployment.ids)) == []
        finally:
            await db.dispose()
        assert "unhandled_error" not in deployment.server.log_text()
