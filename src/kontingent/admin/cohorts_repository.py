"""SQL for the cohorts admins edit. Repositories never commit.

Invariants kept here:
- A cohort and its vaccines are written together on the caller's connection, so a reader
  sees the old cohort or the new one, never its new ages with its old vaccines.
- A cohort read for a change is locked (`FOR UPDATE` on PostgreSQL; SQLite's write
  transaction holds the whole database).
- Cohorts belong to the campaign the catalogue reads (the first by id).
"""

from __future__ import annotations

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin.cohorts_model import CohortRule
from kontingent.schema import campaigns, cohort_vaccines, cohorts

Stored = tuple[int, CohortRule]


async def campaign_id(conn: AsyncConnection) -> int | None:
    """The campaign the catalogue reads (inventory/repository.py `load_catalogue`)."""
    return (await conn.execute(select(campaigns.c.id).order_by(campaigns.c.id).limit(1))).scalar()


async def _vaccines_of(conn: AsyncConnection, ids: list[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {i: set() for i in ids}
    query = select(cohort_vaccines).where(cohort_vaccines.c.cohort_id.in_(ids))
    for row in (await conn.execute(query)).all():
        found[row.cohort_id].add(row.vaccine_code)
    return found


async def all_cohorts(conn: AsyncConnection) -> list[Stored]:
    query = select(cohorts).where(cohorts.c.campaign_id == await campaign_id(conn))
    rows = (await conn.execute(query.order_by(cohorts.c.opens_at, cohorts.c.id))).all()
    codes = await _vaccines_of(conn, [r.id for r in rows])
    return [(r.id, _rule(r, codes[r.id])) for r in rows]


async def cohort(conn: AsyncConnection, cohort_id: int, *, lock: bool = False) -> Stored | None:
    query = select(cohorts).where(cohorts.c.id == cohort_id)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return None
    return row.id, _rule(row, (await _vaccines_of(conn, [row.id]))[row.id])


def _rule(row: object, codes: set[str]) -> CohortRule:
    r = row._mapping  # type: ignore[attr-defined]
    return CohortRule(
        r["name"], r["min_age"], r["max_age"], frozenset(codes), r["opens_at"], r["district_rule"]
    )


def _values(rule: CohortRule) -> dict[str, object]:
    return {
        "name": rule.name,
        "min_age": rule.min_age,
        "max_age": rule.max_age,
        "opens_at": rule.opens_at,
        "district_rule": rule.district_rule,
    }


async def add_cohort(conn: AsyncConnection, campaign: int, rule: CohortRule) -> int:
    values = {**_values(rule), "campaign_id": campaign}
    new_id = (await conn.execute(insert(cohorts).values(values).returning(cohorts.c.id))).scalar()
    assert new_id is not None
    await _set_vaccines(conn, new_id, rule.vaccines)
    return int(new_id)


async def save_cohort(conn: AsyncConnection, cohort_id: int, rule: CohortRule) -> None:
    await conn.execute(update(cohorts).where(cohorts.c.id == cohort_id).values(_values(rule)))
    await _set_vaccines(conn, cohort_id, rule.vaccines)


async def _set_vaccines(conn: AsyncConnection, cohort_id: int, codes: frozenset[str]) -> None:
    await conn.execute(delete(cohort_vaccines).where(cohort_vaccines.c.cohort_id == cohort_id))
    rows = [{"cohort_id": cohort_id, "vaccine_code": code} for code in sorted(codes)]
    await conn.execute(insert(cohort_vaccines), rows)
