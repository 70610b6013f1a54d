"""SQL of the personal-data purge. Repositories never commit: the service owns each batch's
transaction.

Invariants kept here:
- A booking is purgeable when it is not purged yet, was made before the cut-off, and has no
  appointment (booked or cancelled) on the cut-off day or later, in Berlin days.
- Purging blanks every personal field of the booking's persons (names, birth date, address,
  phone, e-mail, the person key made from name and birth date) and the booking's phone, and
  keeps everything anonymous: the booking's code, status, centre, vaccine, channel, language
  and times, its appointments and slots. The person key becomes `purged:<id>`, unique, so the
  one-active-booking-per-person index still holds and matches no real person.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, and_, cast, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from kontingent.schema import appointments, bookings, persons, slots


def _purgeable(cutoff_day: date, cutoff: datetime) -> ColumnElement[bool]:
    later = exists().where(
        appointments.c.booking_id == bookings.c.id,
        appointments.c.slot_id == slots.c.id,
        slots.c.day >= cutoff_day,
    )
    return and_(bookings.c.purged_at.is_(None), bookings.c.created_at < cutoff, ~later)


async def purgeable_ids(
    conn: AsyncConnection, cutoff_day: date, cutoff: datetime, limit: int
) -> list[int]:
    query = (
        select(bookings.c.id)
        .where(_purgeable(cutoff_day, cutoff))
        .order_by(bookings.c.id)
        .limit(limit)
    )
    return list((await conn.execute(query)).scalars())


async def count_purgeable(
    conn: AsyncConnection, cutoff_day: date, cutoff: datetime
) -> tuple[int, int]:
    """How many bookings, and persons in them, a purge with this cut-off would take."""
    ids = select(bookings.c.id).where(_purgeable(cutoff_day, cutoff))
    booked = (await conn.execute(select(func.count()).select_from(ids.subquery()))).scalar_one()
    people = select(func.count()).where(persons.c.booking_id.in_(ids))
    return booked, (await conn.execute(people)).scalar_one()


async def purge(conn: AsyncConnection, booking_ids: list[int], now: datetime) -> int:
    """Blank the personal data of these bookings' persons; the number of persons purged."""
    done = await conn.execute(
        update(persons)
        .where(persons.c.booking_id.in_(booking_ids))
        .values(
            person_key=literal("purged:") + cast(persons.c.id, String),
            first_name="",
            last_name="",
            birth_date=None,
            postcode="",
            city="",
            street="",
            house_number="",
            phone="",
            email=None,
        )
    )
    await conn.execute(
        update(bookings).where(bookings.c.id.in_(booking_ids)).values(phone="", purged_at=now)
    )
    return done.rowcount
