"""SQL of the CSV exports: the appointments of a centre and day with their persons.

Invariants kept here:
- Reads only, page by page on a key (the slot's start, the appointment's id) that never
  shifts: an export streams any number of rows holding one connection for one page at a time,
  never the whole list in memory nor a cursor open for the whole download.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.schema import appointments, bookings, centres, persons, slots

PAGE = 1000
a, b, p, s, c = appointments, bookings, persons, slots, centres
COLUMNS = (
    s.c.starts_at, a.c.id, c.c.name.label("centre"), b.c.code, b.c.status, b.c.channel,
    b.c.vaccine_code, a.c.dose, a.c.status.label("appointment_status"), p.c.first_name,
    p.c.last_name, p.c.birth_date, p.c.postcode, p.c.city, p.c.street, p.c.house_number,
    p.c.phone, p.c.email, b.c.created_at,
)  # fmt: skip


async def appointments_page(
    conn: AsyncConnection,
    centre_id: int | None,
    day: date | None,
    after: tuple[datetime, int] | None,
) -> list[Any]:
    """Up to PAGE appointment rows (with booking and person) after the key `after`."""
    joined = (
        a.join(s, s.c.id == a.c.slot_id)
        .join(b, b.c.id == a.c.booking_id)
        .join(p, and_(p.c.booking_id == a.c.booking_id, p.c.position == a.c.person_position))
        .join(c, c.c.id == s.c.centre_id)
    )
    query = select(*COLUMNS).select_from(joined).order_by(s.c.starts_at, a.c.id).limit(PAGE)
    if centre_id is not None:
        query = query.where(s.c.centre_id == centre_id)
    if day is not None:
        query = query.where(s.c.day == day)
    if after is not None:
        at, last_id = after
        query = query.where(or_(s.c.starts_at > at, and_(s.c.starts_at == at, a.c.id > last_id)))
    return list((await conn.execute(query)).all())


async def centre_exists(conn: AsyncConnection, centre_id: int) -> bool:
    found = await conn.execute(select(c.c.id).where(c.c.id == centre_id))
    return found.first() is not None
