"""Migrations and the schema's own guards, on SQLite and PostgreSQL.

What these tests hold the service to: upgrading an empty database (a new SQLite file, a new
PostgreSQL schema) creates every table of `kontingent.schema` with every column, and upgrading
again changes nothing; the database itself refuses a slot with more bookings than capacity.
"""

from __future__ import annotations

import logging
import secrets
import unicodedata
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.exc import IntegrityError

from kontingent.app import Services
from kontingent.booking.model import person_key
from kontingent.clock import FixedClock
from kontingent.db import Database, make_engine
from kontingent.demo.seed import DemoSize, seed_demo
from kontingent.migrations import downgrade, upgrade
from kontingent.schema import bookings, campaigns, centres, metadata, persons, slots
from tests.support import PG_URL, T0


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


def _old_key(first_name: str, last_name: str, born: date) -> str:
    """The key as 0007 and before wrote it: case, accents and spacing folded, nothing more."""

    def fold(name: str) -> str:
        decomposed = unicodedata.normalize("NFKD", name.casefold())
        return "".join(ch for ch in decomposed if ch.isalpha()).replace("ß", "ss")

    return f"{fold(first_name)}|{fold(last_name)}|{born.isoformat()}"


async def _book_raw(
    db: Database, code: str, first_name: str, key: str, *, active: bool = True
) -> int:
    """A booking of one person as an older release stored it, key included."""
    async with db.write() as conn:
        campaign = (await conn.execute(select(campaigns.c.id))).scalar_one()
        centre = (await conn.execute(select(centres.c.id).limit(1))).scalar_one()
        booking_id = (
            await conn.execute(
                insert(bookings)
                .values(
                    code=code,
                    campaign_id=campaign,
                    centre_id=centre,
                    vaccine_code="BNT",
                    status="booked" if active else "cancelled",
                    phone="+491701000000",
                    created_at=T0,
                )
                .returning(bookings.c.id)
            )
        ).scalar_one()
        return (
            await conn.execute(
                insert(persons)
                .values(
                    booking_id=booking_id,
                    position=0,
                    campaign_id=campaign,
                    person_key=key,
                    active=active,
                    first_name=first_name,
                    last_name="Mustermann",
                    birth_date=date(1939, 5, 1),
                    postcode="33602",
                    city="Bielefeld",
                    street="Hauptstraße",
                    house_number="1",
                    phone="+491701000000",
                )
                .returning(persons.c.id)
            )
        ).scalar_one()


async def _keys(db: Database) -> dict[int, str]:
    async with db.read() as conn:
        rows = (await conn.execute(select(persons.c.id, persons.c.person_key))).all()
    return {row.id: row.person_key for row in rows}


async def test_hardening_7_the_migration_rekeys_active_persons_and_survives_doubles(
    empty_db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stops look-alike doubles booked before the upgrade from breaking or hiding in it."""
    await upgrade(empty_db.engine, "0007")

    async def no_postcodes(*_: Any) -> int:
        return 0  # the seed writes postcode places (0010); at 0007 the table has no such column

    monkeypatch.setattr("kontingent.demo.seed.replace_postcodes", no_postcodes)
    # No phone share: at 0007 there is no column to keep it in (0015).
    await seed_demo(empty_db, FixedClock(T0), DemoSize(weeks=1, centres=1, phone_share_percent=0))
    born = date(1939, 5, 1)
    names = {"A": "Erika", "B": "Erіka", "C": "Εrika", "D": "Olga", "E": "Erіka"}
    ids = {}
    for code, name in names.items():
        active = code != "E"  # E was cancelled: outside the unique index, left alone
        ids[code] = await _book_raw(
            empty_db, code, name, _old_key(name, "Mustermann", born), active=active
        )
    before = await _keys(empty_db)
    assert len({before[ids[c]] for c in "ABC"}) == 3  # three persons to the old key

    with caplog.at_level(logging.WARNING, logger="alembic.runtime.migration"):
        await upgrade(empty_db.engine)
    reviews = [r.getMessage() for r in caplog.records if "review the booking" in r.getMessage()]
    assert [m.split("(booking ")[1][0] for m in reviews] == ["B", "C"]  # named for staff

    after = await _keys(empty_db)
    erika = person_key("Erika", "Mustermann", born)
    assert after[ids["A"]] == erika  # the earliest keeps the key
    assert after[ids["B"]] == f"{erika}|dup:{ids['B']}"  # later doubles: kept, keys of their own
    assert after[ids["C"]] == f"{erika}|dup:{ids['C']}"
    assert after[ids["D"]] == person_key("Olga", "Mustermann", born)
    assert after[ids["E"]] == before[ids["E"]]
    with pytest.raises(IntegrityError):  # and one more look-alike is refused by the index
        await _book_raw(empty_db, "F", "Erіka", erika)


async def test_the_door_ticket_column_comes_and_goes_with_its_migration(
    empty_db: Database,
) -> None:
    """0013 (qr) adds `outbox.qr` and its downgrade drops it again, on both dialects."""

    await upgrade(empty_db.engine)
    assert "qr" in (await layout(empty_db))["outbox"]
    await downgrade(empty_db.engine, "0012")
    assert "qr" not in (await layout(empty_db))["outbox"]
    await upgrade(empty_db.engine)
    assert "qr" in (await layout(empty_db))["outbox"]


DRIFT = text(
    "SELECT count(*) FROM (SELECT centre_id, vaccine_code, day, bookable_from, "
    "sum(capacity) AS c, sum(booked) AS b FROM slots WHERE bookable_from IS NOT NULL "
    "GROUP BY centre_id, vaccine_code, day, bookable_from) s "
    "LEFT JOIN slot_days d USING (centre_id, vaccine_code, day, bookable_from) "
    "WHERE d.capacity IS NULL OR d.capacity <> s.c OR d.booked <> s.b"
)


async def _book_first_slot(db: Database) -> None:
    async with db.write() as conn:
        first = (await conn.execute(select(slots.c.id).order_by(slots.c.id).limit(1))).scalar()
        await conn.execute(update(slots).where(slots.c.id == first).values(booked=1))


async def test_the_phone_share_migration_goes_down_and_up_again(empty_db: Database) -> None:
    """0015 (phone share) down to 0014 and up again: its columns go and come back, and the triggers
    of each version keep `slot_days` equal to the sums over the slots."""
    from tests.integration.test_slot_days import assert_kept

    await upgrade(empty_db.engine)
    await seed_demo(empty_db, FixedClock(T0), DemoSize(weeks=1, centres=1, phone_share_percent=20))
    await assert_kept(empty_db)
    full = await layout(empty_db)
    assert "phone_reserved" in full["slots"] and "phone_reserved" in full["slot_days"]

    await downgrade(empty_db.engine, "0014")
    down = await layout(empty_db)
    assert "phone_reserved" not in down["slots"] | down["slot_days"]
    assert "phone_share_percent" not in down["contingents"]
    await _book_first_slot(empty_db)  # the 0005 triggers are back and keep the sums
    async with empty_db.read() as conn:
        assert (await conn.execute(DRIFT)).scalar_one() == 0

    await upgrade(empty_db.engine)
    assert await layout(empty_db) == full
    await _book_first_slot(empty_db)
    await assert_kept(empty_db)


async def test_the_dashboard_migration_goes_down_and_up_again(empty_db: Database) -> None:
    """0017 (dashboard index, population) down to 0016 and up again."""

    def indexes(sync_conn: Any) -> set[str]:
        return {i["name"] for i in inspect(sync_conn).get_indexes("bookings")}

    await upgrade(empty_db.engine)
    full = await layout(empty_db)
    async with empty_db.engine.connect() as conn:
        assert "ix_bookings_created_at" in await conn.run_sync(indexes)
    await downgrade(empty_db.engine, "0016")
    assert "population" not in await layout(empty_db)
    async with empty_db.engine.connect() as conn:
        assert "ix_bookings_created_at" not in await conn.run_sync(indexes)
    await upgrade(empty_db.engine)
    assert await layout(empty_db) == full
