"""SQL for the vaccines admins edit. Repositories never commit.

Invariants kept here:
- A vaccine read for a change is locked (`FOR UPDATE` on PostgreSQL; SQLite's write
  transaction holds the whole database), so two admins' changes apply one after the other.
- Only the vaccine's own row is written: slots, bookings and appointments are never touched.
"""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin.vaccines_model import VaccineRule
from kontingent.schema import vaccines


def _rule(row: Row[tuple[object, ...]]) -> VaccineRule:
    return VaccineRule(**{name: row._mapping[name] for name in VaccineRule.__slots__})


async def all_vaccines(conn: AsyncConnection) -> list[VaccineRule]:
    rows = (await conn.execute(select(vaccines).order_by(vaccines.c.code))).all()
    return [_rule(r) for r in rows]


async def vaccine(conn: AsyncConnection, code: str, *, lock: bool = False) -> VaccineRule | None:
    query = select(vaccines).where(vaccines.c.code == code)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    return None if row is None else _rule(row)


async def add_vaccine(conn: AsyncConnection, rule: VaccineRule) -> None:
    await conn.execute(insert(vaccines).values(asdict(rule)))


async def save_vaccine(conn: AsyncConnection, rule: VaccineRule) -> None:
    values = {k: v for k, v in asdict(rule).items() if k != "code"}
    await conn.execute(update(vaccines).where(vaccines.c.code == rule.code).values(values))
