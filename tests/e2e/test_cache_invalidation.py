"""Two real `kontingent serve` processes on PostgreSQL (a schema of their own) and Redis, with
an availability cache of 60 s: a booking in process A takes the seat out of process B's offers
at once, and its cancellation puts it back, without either waiting for the TTL.

The database is migrated and seeded at the real time (the servers read the system clock);
the booking token is minted with the servers' secret key (the PIN flow is tested elsewhere).
Waiting is polling B with a deadline far below the TTL.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from kontingent.clock import SystemClock
from kontingent.db import Database, make_engine
from kontingent.demo.seed import DemoSize, seed_demo
from kontingent.migrations import upgrade
from tests.integration.test_races import mint_tokens
from tests.servers import Server, serve
from tests.support import (
    BIELEFELD,
    PG_URL,
    REDIS_URL,
    delete_redis_prefix,
    drop_schema,
    person,
    phone,
    set_free,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]
PORTS = (18300, 18399)  # this family's range; other server tests use other ranges
TTL_S = 60
DEADLINE_S = 10.0  # far below the TTL: only a message can make B change its mind so soon
OFFERS = f"/api/v1/centres/{BIELEFELD}/offers?vaccine=BNT&limit=50"


@dataclass(frozen=True, slots=True)
class Pair:
    a: Server
    b: Server
    schema: str
    token: str


async def _prepare(schema: str, secret: str) -> str:
    db = Database(make_engine(PG_URL, schema=schema))
    try:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        await upgrade(db.engine)
        clock = SystemClock()
        await seed_demo(db, clock, DemoSize(weeks=4, centres=2, phone_share_percent=0))
        return (await mint_tokens(db, secret, [phone(0)], clock.now()))[0]
    finally:
        await db.dispose()


async def _leave_one_seat(schema: str, slot_ids: list[int]) -> None:
    db = Database(make_engine(PG_URL, schema=schema))
    try:
        await set_free(db, 1, *slot_ids)
    finally:
        await db.dispose()


@pytest.fixture
def pair(request: pytest.FixtureRequest) -> Iterator[Pair]:
    secret = secrets.token_urlsafe(32)
    schema = f"kt_inval_{secrets.token_hex(4)}"
    prefix = f"kt_test_{secrets.token_hex(4)}:"
    request.addfinalizer(lambda: asyncio.run(drop_schema(schema)))  # runs after the servers stop
    token = asyncio.run(_prepare(schema, secret))
    env = {
        "KONTINGENT_DATABASE_URL": PG_URL,
        "KONTINGENT_DATABASE_SCHEMA": schema,
        "KONTINGENT_SECRET_KEY": secret,
        "KONTINGENT_REDIS_URL": REDIS_URL,
        "KONTINGENT_REDIS_PREFIX": prefix,
        "KONTINGENT_AVAILABILITY_TTL_S": str(TTL_S),
        "KONTINGENT_DB_POOL_SIZE": "3",
    }
    args = ["--workers", "1", "--no-relay"]
    a = serve(request, args, env, ports=PORTS, name="serve-a")
    b = serve(request, args, env, ports=(a.port + 1, PORTS[1]), name="serve-b")
    yield Pair(a, b, schema, token)
    asyncio.run(delete_redis_prefix(prefix))


def _shown(client: httpx.Client) -> set[int]:
    answer = client.get(OFFERS)
    assert answer.status_code == 200, answer.text
    return {a["slot_id"] for o in answer.json()["offers"] for a in o["appointments"]}


def _until_b(client: httpx.Client, shows: bool, slots: set[int]) -> float:
    """Poll B until its offers show (or no longer show) `slots`; seconds it took."""
    start = time.monotonic()
    while (slots <= _shown(client)) != shows:
        assert time.monotonic() - start < DEADLINE_S, (
            f"B still {'hides' if shows else 'shows'} {slots}"
        )
        time.sleep(0.02)  # polling with a deadline
    return time.monotonic() - start


def test_a_booking_in_one_process_leaves_the_others_offers_at_once(pair: Pair) -> None:
    with (
        httpx.Client(base_url=pair.a.url, timeout=10) as a,
        httpx.Client(base_url=pair.b.url, timeout=10) as b,
        pair.a.shown_on_failure(),
        pair.b.shown_on_failure(),
    ):
        offer = a.get(OFFERS).json()["offers"][0]
        slot_ids = [x["slot_id"] for x in offer["appointments"]]
        asyncio.run(_leave_one_seat(pair.schema, slot_ids))
        assert set(slot_ids) <= _shown(b)  # B reads now: one seat left in each, kept 60 s

        booked = a.post(
            "/api/v1/bookings",
            json={"persons": [person(0)], "slot_ids": slot_ids},
            headers={"Authorization": f"Bearer {pair.token}"},
        )
        assert booked.status_code == 201, booked.text
        took = _until_b(b, shows=False, slots=set(slot_ids))

        cancelled = a.delete(
            f"/api/v1/bookings/{booked.json()['code']}",
            params={"birth_date": person(0)["birth_date"]},
        )
        assert cancelled.status_code == 200, cancelled.text
        back = _until_b(b, shows=True, slots=set(slot_ids))
        assert took < TTL_S / 6 and back < TTL_S / 6
