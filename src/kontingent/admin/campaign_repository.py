"""SQL for the campaign's booking window and the phone shares of its contingents.
Repositories never commit.

Invariants kept here:
- The window read for a change is locked (`FOR UPDATE` on PostgreSQL), so two admins'
  changes apply one after the other.
- The campaign is the one the catalogue reads (the first by id).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin.campaign_model import Window
from kontingent.schema import campaigns, contingents


async def window(conn: AsyncConnection, *, lock: bool = False) -> tuple[int, str, Window] | None:
    """(campaign id, name, window) of the campaign, or None when none is set up."""
    query = select(campaigns).order_by(campaigns.c.id).limit(1)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        return None
    return row.id, row.name, Window(row.booking_from, row.booking_until)


async def save_window(conn: AsyncConnection, campaign_id: int, new: Window) -> None:
    await conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(booking_from=new.booking_from, booking_until=new.booking_until)
    )


async def share_percents(conn: AsyncConnection) -> list[int]:
    """The phone shares the contingents have, each once, ascending."""
    query = select(contingents.c.phone_share_percent).distinct()
    return sorted((await conn.execute(query)).scalars())


async def contingent_ids(conn: AsyncConnection) -> list[int]:
    """Every contingent, ascending (the order slots are locked in)."""
    return list((await conn.execute(select(contingents.c.id).order_by(contingents.c.id))).scalars())
