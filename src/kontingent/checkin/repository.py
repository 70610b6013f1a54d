"""SQL of the check-in: a booking and its appointments by code, and the conditional update
that checks appointments in. The service owns the transaction (with its audit row)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.checkin.model import Arrival, Booked
from kontingent.schema import appointments, bookings, persons, slots


async def booking(conn: AsyncConnection, code: str) -> Booked | None:
    row = (
        await conn.execute(
            select(bookings.c.id, bookings.c.status, bookings.c.centre_id).where(
                bookings.c.code == code
            )
        )
    ).first()
    if row is None:
        return None
    return Booked(code, row.status, row.centre_id, await _appointments(conn, row.id))


async def _appointments(conn: AsyncConnection, booking_id: int) -> list[Arrival]:
    a, p = appointments, persons
    query = (
        select(a.c.id, a.c.dose, a.c.status, slots.c.starts_at, p.c.first_name, p.c.last_name)
        .join(slots, slots.c.id == a.c.slot_id)
        .join(p, and_(p.c.booking_id == a.c.booking_id, p.c.position == a.c.person_position))
        .where(a.c.booking_id == booking_id)
        .order_by(slots.c.starts_at, a.c.person_position)
    )
    return [
        Arrival(r.id, r.dose, r.status, r.starts_at, r.first_name, r.last_name)
        for r in (await conn.execute(query)).all()
    ]


async def check_in(
    conn: AsyncConnection, appointment_ids: Sequence[int], by: int, now: datetime
) -> list[int]:
    """Appointments still booked among these become checked in (at `now`, recorded by staff
    user `by`); the ids that changed. A conditional update: two scans at once change each
    appointment once."""
    done = await conn.execute(
        update(appointments)
        .where(appointments.c.id.in_(appointment_ids), appointments.c.status == "booked")
        .values(status="checked_in", checked_in_at=now, recorded_by=by)
        .returning(appointments.c.id)
    )
    return sorted(done.scalars())
