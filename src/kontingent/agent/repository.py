"""SQL of the hotline's searches: bookings by code, by a person's last name and birth date,
or by phone number. Reads only; the service owns the transaction (with its audit row)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.booking.service import Booking, BookingView
from kontingent.schema import bookings, persons

MAX_FOUND = 20  # a caller has one booking; more matches mean the search is too broad


async def ids_by_code(conn: AsyncConnection, code: str) -> list[int]:
    # A purged booking (retention/) has no person left to talk about with a caller.
    query = select(bookings.c.id).where(bookings.c.code == code, bookings.c.purged_at.is_(None))
    return list((await conn.execute(query)).scalars())


async def ids_by_name(conn: AsyncConnection, last_name: str, born: date) -> list[int]:
    query = (
        select(persons.c.booking_id)
        .where(func.lower(persons.c.last_name) == last_name.lower(), persons.c.birth_date == born)
        .distinct()
        .order_by(persons.c.booking_id.desc())
        .limit(MAX_FOUND)
    )
    return list((await conn.execute(query)).scalars())


async def ids_by_phone(conn: AsyncConnection, phone: str) -> list[int]:
    held = select(persons.c.booking_id).where(persons.c.phone == phone)
    query = (
        select(bookings.c.id)
        .where(or_(bookings.c.phone == phone, bookings.c.id.in_(held)))
        .order_by(bookings.c.id.desc())
        .limit(MAX_FOUND)
    )
    return list((await conn.execute(query)).scalars())


async def views(conn: AsyncConnection, booking_ids: list[int]) -> list[BookingView]:
    found = []
    for booking_id in booking_ids:
        row = (await conn.execute(select(bookings).where(bookings.c.id == booking_id))).one()
        found.append(await Booking.view_of(conn, row))
    return found
