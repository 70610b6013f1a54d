"""SQL of the second dose on the spot: a booking as the desk sees it (by code, or the active
one of a person), the appointments of a booking just made, and the free seats of a window.
Reads only: the seats are taken by the booking use case (booking/service.py).

A seat counts as free for the desk only when it is public: `booked + phone_reserved + n <=
capacity`, the same condition the on-site booking's conditional update takes seats under.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.booking import repository as booking_repo
from kontingent.centre.spot_model import Existing, Free, Held
from kontingent.schema import appointments, bookings, persons, slots


async def by_code(conn: AsyncConnection, code: str) -> Existing | None:
    row = (await conn.execute(select(bookings).where(bookings.c.code == code))).first()
    return None if row is None else await _existing(conn, row)


async def active_of(
    conn: AsyncConnection, campaign_id: int, key: str
) -> tuple[Existing, int] | None:
    """The booking in which this person is active, and their position in it."""
    found = (
        await conn.execute(
            select(persons.c.booking_id, persons.c.position).where(
                persons.c.campaign_id == campaign_id, persons.c.person_key == key, persons.c.active
            )
        )
    ).first()
    if found is None:
        return None
    row = (await conn.execute(select(bookings).where(bookings.c.id == found.booking_id))).one()
    return await _existing(conn, row), int(found.position)


async def _existing(conn: AsyncConnection, r: Row[Any]) -> Existing:
    booking_id = int(r.id)
    query = (
        select(appointments.c.person_position, appointments.c.dose, appointments.c.status,
               slots.c.starts_at)
        .join(slots, slots.c.id == appointments.c.slot_id)
        .where(appointments.c.booking_id == booking_id)
        .order_by(slots.c.starts_at, appointments.c.person_position)
    )  # fmt: skip
    held = [
        Held(a.person_position, a.dose, a.status, a.starts_at) for a in await conn.execute(query)
    ]
    return Existing(
        booking_id, r.code, r.status, r.centre_id, r.vaccine_code, r.language, r.phone,
        await booking_repo.booking_persons(conn, booking_id), held,
    )  # fmt: skip


async def appointment_ids(conn: AsyncConnection, code: str) -> list[tuple[int, int]]:
    """(appointment id, person position) of a booking's appointments."""
    query = (
        select(appointments.c.id, appointments.c.person_position)
        .join(bookings, bookings.c.id == appointments.c.booking_id)
        .where(bookings.c.code == code)
        .order_by(appointments.c.person_position)
    )
    return [(int(r.id), int(r.person_position)) for r in await conn.execute(query)]


def _free(centre_id: int, vaccine: str, n: int, now: datetime, until: datetime) -> Select[Any]:
    s = slots.c
    return select(s.id, s.starts_at).where(
        s.centre_id == centre_id,
        s.vaccine_code == vaccine,
        s.booked + s.phone_reserved + n <= s.capacity,
        s.bookable_from <= now,
        s.starts_at > now,
        s.starts_at < until,
    )


async def free_in(
    conn: AsyncConnection,
    centre_id: int,
    vaccine: str,
    n: int,
    days: tuple[date, date],
    now: datetime,
    until: datetime,
) -> list[Free]:
    """The slots with `n` public seats free on the days of the window, by time."""
    query = (
        _free(centre_id, vaccine, n, now, until)
        .where(slots.c.day >= days[0], slots.c.day <= days[1])
        .order_by(slots.c.starts_at)
    )
    return [Free(int(r.id), r.starts_at) for r in await conn.execute(query)]


async def next_free_after(
    conn: AsyncConnection, centre_id: int, vaccine: str, n: int, day: date, now: datetime,
    until: datetime,
) -> datetime | None:  # fmt: skip
    """The start of the first slot with `n` public seats free after `day`, if any."""
    query = (
        _free(centre_id, vaccine, n, now, until)
        .where(slots.c.day > day)
        .order_by(slots.c.starts_at)
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    return None if row is None else row.starts_at
