"""SQL for the waitlist. Repositories never commit."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.schema import waitlist
from kontingent.waitlist.model import Entry


def _entry(row: Row[tuple[object, ...]]) -> Entry:
    r = row._mapping
    return Entry(
        int(r["id"]),
        str(r["phone"]),
        int(r["centre_id"]),
        str(r["vaccine_code"]),
        int(r["persons"]),
        r["created_at"],
        r["notified_at"],
        str(r["language"]),
    )


async def waiting(
    conn: AsyncConnection, campaign_id: int, phone: str, centre_id: int, vaccine_code: str
) -> Entry | None:
    query = select(waitlist).where(
        waitlist.c.campaign_id == campaign_id,
        waitlist.c.phone == phone,
        waitlist.c.centre_id == centre_id,
        waitlist.c.vaccine_code == vaccine_code,
        waitlist.c.notified_at.is_(None),
    )
    row = (await conn.execute(query)).first()
    return None if row is None else _entry(row)


async def add(
    conn: AsyncConnection,
    *,
    campaign_id: int,
    phone: str,
    centre_id: int,
    vaccine_code: str,
    persons: int,
    now: datetime,
    language: str = "de",
) -> Entry:
    row = (
        await conn.execute(
            waitlist.insert()
            .values(
                campaign_id=campaign_id,
                phone=phone,
                centre_id=centre_id,
                vaccine_code=vaccine_code,
                persons=persons,
                created_at=now,
                language=language,
            )
            .returning(waitlist)
        )
    ).one()
    return _entry(row)


async def waiting_pairs(conn: AsyncConnection) -> list[tuple[int, str, int]]:
    """(centre, vaccine, fewest persons asked for) of every pair someone waits for."""
    query = (
        select(waitlist.c.centre_id, waitlist.c.vaccine_code, func.min(waitlist.c.persons))
        .where(waitlist.c.notified_at.is_(None))
        .group_by(waitlist.c.centre_id, waitlist.c.vaccine_code)
        .order_by(waitlist.c.centre_id, waitlist.c.vaccine_code)
    )
    return [(int(r[0]), str(r[1]), int(r[2])) for r in (await conn.execute(query)).all()]


async def claim_waiting(
    conn: AsyncConnection,
    centre_id: int,
    vaccine_code: str,
    max_persons: int,
    now: datetime,
) -> list[Entry]:
    """Mark the waiting entries of a pair notified and return exactly those this call marked.

    The conditional UPDATE is the claim: two workers running at once cannot both mark (and so
    both message) the same entry.
    """
    result = await conn.execute(
        update(waitlist)
        .where(
            waitlist.c.centre_id == centre_id,
            waitlist.c.vaccine_code == vaccine_code,
            waitlist.c.persons <= max_persons,
            waitlist.c.notified_at.is_(None),
        )
        .values(notified_at=now)
        .returning(waitlist)
    )
    return sorted((_entry(r) for r in result.all()), key=lambda e: e.id)


async def count(conn: AsyncConnection, ids: Sequence[int] | None = None) -> int:
    query = select(func.count()).select_from(waitlist)
    if ids is not None:
        query = query.where(waitlist.c.id.in_(ids))
    return int((await conn.execute(query)).scalar_one())
