"""Migration 0020 (the catalogue's version) on both databases: upgrading makes the one row at
version 0, the database refuses a second row, and the migration goes down to 0019 and up
again, after which a change of the catalogue raises the version as before."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from kontingent.db import Database
from kontingent.inventory import catalogue_version
from kontingent.migrations import downgrade, upgrade
from kontingent.schema import catalogue_version as table
from tests.integration.test_migrations import empty_db, layout  # noqa: F401 (fixture)


async def test_the_catalogue_version_migration_goes_down_and_up_again(empty_db: Database) -> None:  # noqa: F811
    await upgrade(empty_db.engine)
    async with empty_db.read() as conn:
        assert await catalogue_version.read(conn) == 0
    with pytest.raises(IntegrityError):  # one row, whatever the code does
        async with empty_db.write() as conn:
            await conn.execute(insert(table).values(id=2, version=0))
    await downgrade(empty_db.engine, "0019")
    assert "catalogue_version" not in await layout(empty_db)
    await upgrade(empty_db.engine)
    async with empty_db.write() as conn:
        assert await catalogue_version.bump(conn) == 1
    async with empty_db.read() as conn:
        assert await catalogue_version.read(conn) == 1
