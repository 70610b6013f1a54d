"""SQL for the campaign's postcodes. Repositories never commit.

Invariants kept here:
- Loading the packaged postcodes replaces the table whole inside the caller's transaction, so
  a reader sees the old table or the new one, never a mix.
- Every district the packaged table names must exist: a name that matches none stops the load
  with the names to fix, rather than leaving its postcodes out silently.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.eligibility.postcodes import Row
from kontingent.errors import InvalidInput
from kontingent.schema import districts, postcodes


async def replace_postcodes(conn: AsyncConnection, rows: Iterable[Row]) -> int:
    """Put `rows` (the campaign's parts of postcodes) in place of the table; their count."""
    ids = {r.name: r.id for r in (await conn.execute(select(districts))).all()}
    rows = list(rows)
    missing = sorted({row.name for row in rows} - ids.keys())
    if missing:
        raise InvalidInput(
            f"no district named {', '.join(missing)}: add the districts first, or fix the names",
            code="unknown_district",
            field="district",
        )
    await conn.execute(delete(postcodes))
    await conn.execute(
        insert(postcodes),
        [{"postcode": r.postcode, "district_id": ids[r.name], "places": r.places} for r in rows],
    )
    return len(rows)
