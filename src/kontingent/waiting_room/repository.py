"""SQL of the waiting room: what must outlive Redis. Repositories never commit.

Invariants kept here:
- `waiting_room_settings` holds at most one row: the room as an operator last set it at run
  time. No row means the environment's settings apply.
- Which admission booked is `bookings.admission`, written by the booking's own statement
  (booking/repository.py); here it is only read, for the bar a Redis that came back empty
  gets when no running process saw it before (`admitted_tickets`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.schema import bookings, waiting_room_settings
from kontingent.waiting_room.model import Mode, RoomConfig

_ROW = 1
# How many of the newest bookings made under the room are read for their tickets' scores.
RECENT_ADMISSIONS = 200


async def stored_config(conn: AsyncConnection) -> RoomConfig | None:
    t = waiting_room_settings
    row = (await conn.execute(select(t).where(t.c.id == _ROW))).first()
    if row is None:
        return None
    return RoomConfig(
        mode=Mode(row.mode),
        opens_at=None if row.opens_at is None else row.opens_at.timestamp(),
        rate=row.rate,
        ttl_s=row.ttl_s,
        threshold=row.threshold,
    )


async def store_config(conn: AsyncConnection, config: RoomConfig, now: datetime) -> None:
    values = {
        "mode": config.mode.value,
        "opens_at": None
        if config.opens_at is None
        else datetime.fromtimestamp(config.opens_at, UTC),
        "rate": config.rate,
        "ttl_s": config.ttl_s,
        "threshold": config.threshold,
        "updated_at": now,
    }
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(waiting_room_settings).values(id=_ROW, **values)
    await conn.execute(statement.on_conflict_do_update(index_elements=["id"], set_=values))


async def admitted_tickets(conn: AsyncConnection, limit: int = RECENT_ADMISSIONS) -> list[str]:
    """The admission tickets of the newest bookings made under the room."""
    result = await conn.execute(
        select(bookings.c.admission)
        .where(bookings.c.admission.is_not(None))
        .order_by(bookings.c.id.desc())
        .limit(limit)
    )
    return [str(ticket) for ticket in result.scalars()]
