"""Migrations and the schema's own guards, on SQLite and PostgreSQL.

What these tests hold the service to: upgrading an empty database (a new SQLite file, a new
PostgreSQL schema) creates every table of `kontingent.schema` with every column, and upgrading
again changes nothing; the database itself refuses a slot with more bookings than capacity.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, update
from sqlalchemy.exc import IntegrityError

from kontingent.app import Services
from kontingent.db import Database, make_engine
from kontingent.migrations import upgrade
from kontingent.schema import metadata, slots
from tests.support import PG_URL


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with no tables at all: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        db = Database(make_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite3'}"))
        yield db
        await db.dispose()
        return
    schema = f"kt_mig_{secrets.token_hex(4)}"
    admin = Database(make_engine(PG_URL))
    async with admin.engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    db = Database(make_engine(PG_URL, schema=schema))
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.dispose()


async def layout(db: Database) -> dict[str, set[str]]:
    """Table name -> column names, as the database reports them."""

    def read(sync_conn: Any) -> dict[str, set[str]]:
        found = inspect(sync_conn)
        return {t: {c["name"] for c in found.get_columns(t)} for t in found.get_table_names()}

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def test_upgrade_creates_every_table_and_can_run_again(empty_db: Database) -> None:
    assert await layout(empty_db) == {}
    await upgrade(empty_db.engine)
    first = await layout(empty_db)
    expected = {name: {c.name for c in t.columns} for name, t in metadata.tables.items()}
    assert {t: first[t] for t in expected if t in first} == expected
    assert set(first) == set(expected) | {"alembic_version"}

    await upgrade(empty_db.engine)  # already at head: nothing to do, nothing fails
    assert await layout(empty_db) == first
    async with empty_db.read() as conn:
        versions = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1


async def test_database_refuses_more_bookings_than_capacity(services: Services) -> None:
    offer = (await services.inventory.offers(1, "BNT", limit=1)).offers[0]
    slot_id = offer.slot_ids[0]
    for booked in (slots.c.capacity + 1, -1):
        with pytest.raises(IntegrityError):
            async with services.db.write() as conn:
                await conn.execute(update(slots).where(slots.c.id == slot_id).values(booked=booked))
    async with services.db.write() as conn:  # full is allowed, one more is not
        await conn.execute(
            update(slots).where(slots.c.id == slot_id).values(booked=slots.c.capacity)
        )
    with pytest.raises(IntegrityError):
        async with services.db.write() as conn:
            await conn.execute(
                update(slots).where(slots.c.id == slot_id).values(booked=slots.c.booked + 1)
            )
    async with services.db.read() as conn:
        row = (
            await conn.execute(
                select(slots.c.booked, slots.c.capacity).where(slots.c.id == slot_id)
            )
        ).one()
    assert row.booked == row.capacity
