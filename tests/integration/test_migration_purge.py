"""Migration 0014 (bookings.purged_at, persons.birth_date may be empty) goes up, down and
up again on SQLite and PostgreSQL, and refuses to go down once a birth date was purged."""

from __future__ import annotations

from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect

from kontingent.db import Database
from kontingent.migrations import alembic_config, upgrade
from tests.integration.test_migrations import empty_db  # noqa: F401  (the fixture)


async def downgrade(db: Database, revision: str) -> None:
    def run(sync_conn: Any) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = sync_conn
        command.downgrade(cfg, revision)

    async with db.engine.begin() as conn:
        await conn.run_sync(run)


async def nullable(db: Database) -> tuple[bool, bool]:
    """Whether bookings has purged_at, and whether persons.birth_date may be empty."""

    def read(sync_conn: Any) -> tuple[bool, bool]:
        found = inspect(sync_conn)
        booking_columns = {c["name"] for c in found.get_columns("bookings")}
        born = next(c for c in found.get_columns("persons") if c["name"] == "birth_date")
        return "purged_at" in booking_columns, bool(born["nullable"])

    async with db.engine.connect() as conn:
        return await conn.run_sync(read)


async def test_up_down_and_up_again(empty_db: Database) -> None:  # noqa: F811
    await upgrade(empty_db.engine)
    assert await nullable(empty_db) == (True, True)
    await downgrade(empty_db, "0013")
    assert await nullable(empty_db) == (False, False)
    await upgrade(empty_db.engine)
    assert await nullable(empty_db) == (True, True)


async def test_down_is_refused_once_a_birth_date_was_purged(empty_db: Database) -> None:  # noqa: F811
    await upgrade(empty_db.engine)
    async with empty_db.write() as conn:
        for statement in (
            "INSERT INTO regions (id, name) VALUES (1, 'R')",
            "INSERT INTO districts (id, region_id, name, kind) VALUES (1, 1, 'D', '')",
            "INSERT INTO centres (id, district_id, name, postcode, city, lat, lon, lanes) "
            "VALUES (1, 1, 'C', '33602', 'B', 0, 0, 1)",
            "INSERT INTO vaccines (code, name, doses) VALUES ('V', 'V', 1)",
            "INSERT INTO campaigns (id, name, booking_from, booking_until) "
            "VALUES (1, 'K', '2026-01-01', '2026-12-31')",
            "INSERT INTO bookings (id, code, campaign_id, centre_id, vaccine_code, status, phone,"
            " created_at) VALUES (1, 'C', 1, 1, 'V', 'booked', '', '2026-01-01')",
            "INSERT INTO persons (booking_id, position, campaign_id, person_key, active,"
            " first_name, last_name, postcode, city, street, house_number, phone)"
            " VALUES (1, 0, 1, 'purged:1', false, '', '', '', '', '', '', '')",
        ):
            await conn.exec_driver_sql(statement)
    with pytest.raises(RuntimeError, match="cannot downgrade"):
        await downgrade(empty_db, "0013")
