"""Shared test helpers: fixed times, valid people, and getting a booking token the real way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import Table, bindparam, select, update

from kontingent.app import Services
from kontingent.clock import BERLIN
from kontingent.db import Database, make_engine
from kontingent.inventory import repository as inventory_repo
from kontingent.notifications import repository as mailbox_repo
from kontingent.schema import contingents, slots
from kontingent.verification.model import TokenClaims

# A Monday morning in the campaign; the demo data is seeded as of this minute.
T0 = datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN)
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
REDIS_URL = "redis://127.0.0.1:6379/0"
BIELEFELD = 1  # centre id of the first demo centre; postcode 33602


def person(i: int = 0, **overrides: Any) -> dict[str, Any]:
    """A valid person over 80 living in Bielefeld; `i` makes the name unique."""
    data = {
        "first_name": "Erika",
        "last_name": f"Mustermann{chr(ord('a') + i % 26)}{'x' * (i // 26)}",
        "birth_date": "1939-05-01",
        "postcode": "33602",
        "city": "Bielefeld",
        "street": "Hauptstraße",
        "house_number": "12a",
        "email": "erika@example.org",
    }
    data.update(overrides)
    return data


def phone(i: int = 0) -> str:
    return f"+49170{1000000 + i}"


async def read_pin(services: Services, to: str) -> str:
    """Deliver the outbox to the dev mailbox and read the newest PIN sent to `to`."""
    await services.relay.run_once()
    async with services.db.read() as conn:
        messages = await mailbox_repo.mailbox(conn, to)
    for message in messages:
        found = re.search(r"\b(\d{6})\b", message["body"])
        if found:
            return found.group(1)
    raise AssertionError(f"no PIN was delivered to {to}")


async def token_for(services: Services, number: str) -> str:
    sent = await services.verification.send_pin(number)
    return await services.verification.check_pin(
        sent.verification_id, await read_pin(services, number)
    )


async def claims_for(services: Services, number: str) -> TokenClaims:
    token = await token_for(services, number)
    return services.verification.read_token(f"Bearer {token}")


# --- Database-state helpers for the integration and API tests --------------------------------
# Tests on PostgreSQL share one seeded schema that the fixtures reset only in the mutable
# tables and `slots.booked`; anything else a test changes it must put back, which
# `changed_rows` and `unreleased` do even when the test fails.


async def db_counts(db: Any) -> dict[str, int]:
    """What a use case may write (rows, and seats taken), read in one round trip."""
    async with db.read() as conn:
        row = (
            await conn.exec_driver_sql(
                "SELECT (SELECT count(*) FROM bookings), (SELECT count(*) FROM persons), "
                "(SELECT count(*) FROM appointments), (SELECT count(*) FROM outbox), "
                "(SELECT coalesce(sum(booked), 0) FROM slots)"
            )
        ).one()
    names = ("bookings", "persons", "appointments", "outbox", "seats")
    return dict(zip(names, map(int, row), strict=True))


def error_of(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The `error` object of a JSON error answer, after checking status, type and shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and len(error["message"]) > 10, error
    assert isinstance(error["details"], dict), error
    if code is not None:
        assert error["code"] == code, error
    return dict(error)


@asynccontextmanager
async def changed_rows(db: Any, table: Table, where: Any, **values: Any) -> AsyncIterator[None]:
    """Set `values` on the rows `where` selects, and put the old values back afterwards."""
    keys = [c.name for c in table.primary_key.columns]
    async with db.write() as conn:
        old = (await conn.execute(select(table).where(where))).mappings().all()
        await conn.execute(update(table).where(where).values(**values))
    try:
        yield
    finally:
        restore = (
            update(table)
            .where(*[table.c[k] == bindparam(f"k_{k}", type_=table.c[k].type) for k in keys])
            .values({k: bindparam(f"v_{k}", type_=table.c[k].type) for k in values})
        )
        params = [
            {**{f"k_{k}": r[k] for k in keys}, **{f"v_{k}": r[k] for k in values}} for r in old
        ]
        async with db.write() as conn:
            if params:
                await conn.execute(restore, params)


@asynccontextmanager
async def unreleased(
    db: Any, centre_id: int, vaccine: str, release_at: datetime
) -> AsyncIterator[int]:
    """All slots of one centre and vaccine moved into a new contingent released at
    `release_at` (the contingent's id is yielded); the seeded release is restored after."""
    contingent_id = None
    where = (slots.c.centre_id == centre_id) & (slots.c.vaccine_code == vaccine)
    try:
        async with changed_rows(db, slots, where, contingent_id=None, bookable_from=None):
            async with db.write() as conn:
                contingent_id, _ = await inventory_repo.add_contingent(
                    conn,
                    centre_id=centre_id,
                    vaccine_code=vaccine,
                    first_day=T0.date(),
                    last_day=T0.date() + timedelta(days=365),
                    release_at=release_at,
                    now=T0,
                )
            yield contingent_id
    finally:
        if contingent_id is not None:
            async with db.write() as conn:
                await conn.execute(contingents.delete().where(contingents.c.id == contingent_id))


async def set_free(db: Any, free: int, *slot_ids: int) -> None:
    """Leave `free` seats in each slot, for everyone: none kept for the phone share (the
    fixtures reset `booked` and `phone_reserved` before the next test)."""
    async with db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.id.in_(slot_ids))
            .values(booked=slots.c.capacity - free, phone_reserved=0)
        )


async def fill_centre(db: Any, centre_id: int, vaccine: str) -> None:
    """Book out every slot of one centre and vaccine, as if the rush had taken them all."""
    async with db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == centre_id, slots.c.vaccine_code == vaccine)
            .values(booked=slots.c.capacity)
        )


async def drop_schema(schema: str) -> None:
    """Drop a PostgreSQL schema a test run or its servers worked in, with all it holds."""
    db = Database(make_engine(PG_URL))
    try:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await db.dispose()


async def delete_redis_prefix(prefix: str) -> None:
    """Delete the keys a test run made under its own prefix on the shared Redis."""
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


_CSRF_TOKEN = re.compile(r'name="_csrf_token" value="([^"]+)"')


class FormClient:
    """A browser's worth of state for the server-rendered pages (the portal's and the
    consoles'): cookies (in the test client) and the CSRF token of the last page, which a
    form's POST sends as the browser's hidden field would. `follow`: whether a GET follows
    redirects itself."""

    follow = True

    def __init__(self, client: Any) -> None:
        self.client = client
        self.token = ""

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, params=params or None, follow_redirects=self.follow)
        found = _CSRF_TOKEN.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    async def post(self, path: str, data: dict[str, str], csrf: str | None = "auto") -> Any:
        """`csrf`: "auto" sends the last page's token, None none, anything else itself."""
        body = dict(data)
        if csrf == "auto":
            body["_csrf_token"] = self.token
        elif csrf is not None:
            body["_csrf_token"] = csrf
        return await self.client.post(path, data=body, follow_redirects=False)
