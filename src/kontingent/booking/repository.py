"""SQL for bookings. Repositories never commit; the booking service owns the transaction.

The slot is the unit of contention. Seats are taken with a conditional UPDATE
(`booked + n <= capacity`, released, ahead and inside the window), which PostgreSQL applies in
ascending id order through the primary-key index, and which SQLite runs under BEGIN IMMEDIATE;
the CHECK constraints on `slots` back it. If fewer rows matched than asked, nothing else is
written and the caller rolls the whole booking back.

The phone share (issue 15): a web or on-site booking takes a seat only while
`booked + n + phone_reserved <= capacity`, so it never takes a reserved seat; a phone
booking (`channel == PHONE`) takes reserved seats first, in the same UPDATE
(`phone_reserved = max(phone_reserved - n, 0)`), then public ones. A cancellation gives its
seats to everyone, whatever channel booked them: the reserve is a share of what was
released, not a pool that refills.

`book_seats` takes the seats and writes the booking with its persons, appointments,
confirmations and idempotency record, step by step inside the caller's transaction (SQLite,
under its write lock). On PostgreSQL `book_seats_pg` does the same in one autocommit statement
(`pg_statement.booking_statement`) on a plain asyncpg connection: one round trip instead of
eight, the same rows, the same constraints. Both report a unique constraint that refused the
booking as `Clash`, naming it, so the service tells the cases apart the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from sqlalchemy import and_, case, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Update

from kontingent.booking.model import Person
from kontingent.booking.pg_statement import (
    PHONE,
    SLOT_FULL,
    NewBooking,
    booking_statement,
    person_rows,
)
from kontingent.inventory.model import Appointment
from kontingent.notifications import repository as outbox
from kontingent.schema import appointments, bookings, idempotency_keys, persons, slots
from kontingent.staff import audit


class Clash(Exception):
    """A unique constraint refused the booking; `constraint` names it (or holds the driver's
    message, which names the columns, where the driver gives no name)."""

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


@dataclass(frozen=True, slots=True)
class StoredResponse:
    request_hash: str
    status_code: int
    body: bytes


def _take(ids: list[int], n: int, now: datetime, until: datetime, phone: bool) -> Update:
    """The conditional UPDATE that takes `n` seats in each of `ids`: public seats only, or
    for the phone, reserved seats first."""
    room = slots.c.booked + n <= slots.c.capacity
    values: dict[Any, Any] = {slots.c.booked: slots.c.booked + n}
    if phone:
        reserve = slots.c.phone_reserved
        values[reserve] = case((reserve > n, reserve - n), else_=0)
    else:
        room = slots.c.booked + slots.c.phone_reserved + n <= slots.c.capacity
    return (
        update(slots)
        .where(
            slots.c.id.in_(ids),
            room,
            slots.c.bookable_from <= now,
            slots.c.starts_at > now,
            slots.c.starts_at < until,
        )
        .values(values)
        .returning(slots.c.id)
    )


async def take_seats(
    conn: AsyncConnection,
    seats: Mapping[int, int],
    now: datetime,
    until: datetime,
    *,
    phone: bool = False,
) -> bool:
    """Take `seats[slot_id]` seats in every slot, or report False (caller rolls back);
    `phone`: the phone channel's booking, which may take reserved seats."""
    by_count: dict[int, list[int]] = {}
    for slot_id, n in seats.items():
        by_count.setdefault(n, []).append(slot_id)
    for n, ids in sorted(by_count.items()):
        result = await conn.execute(_take(sorted(ids), n, now, until, phone))
        if len(result.all()) != len(ids):
            return False
    return True


async def book_seats(conn: AsyncConnection, b: NewBooking) -> int | None:
    """Take the seats and write the booking with its confirmations (and its idempotency
    record), statement by statement; the booking's id, or None when a slot had no room left.

    On None some seats may be taken already: the caller must roll the transaction back.
    """
    if not await take_seats(conn, b.seats, b.now, b.until, phone=b.channel == PHONE):
        return None
    try:
        booking_id = await insert_booking(
            conn,
            code=b.code,
            campaign_id=b.campaign_id,
            centre_id=b.centre_id,
            vaccine_code=b.vaccine_code,
            phone=b.phone,
            verification_id=b.verification_id,
            channel=b.channel,
            now=b.now,
            people=b.people,
            booked=b.booked,
            admission=b.admission,
            language=b.language,
        )
        await outbox.enqueue(conn, b.messages, b.now, b.cap)
        if (r := b.remembered) is not None:
            stored = StoredResponse(r.request_hash, r.status_code, r.body)
            await store_response(conn, r.scope, r.key, stored, b.now)
        if b.audit is not None:
            await audit.record(conn, b.audit, b.now)
    except IntegrityError as exc:
        raise Clash(str(exc.orig)) from exc
    return booking_id


async def book_seats_pg(conn: asyncpg.Connection, b: NewBooking) -> int | None:
    """`book_seats` as one autocommit statement on PostgreSQL: the booking's id, or None when
    a slot had no room left (or was no longer bookable). Either way nothing is left to undo."""
    sql, params = booking_statement(b)
    try:
        booking_id = await conn.fetchval(sql, *params)
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name in SLOT_FULL:
            return None
        raise
    except asyncpg.UniqueViolationError as exc:
        raise Clash(exc.constraint_name or str(exc)) from exc
    return None if booking_id is None else int(booking_id)


async def free_seats(conn: AsyncConnection, seats: Mapping[int, int]) -> None:
    for slot_id, n in sorted(seats.items()):
        await conn.execute(
            update(slots).where(slots.c.id == slot_id).values(booked=slots.c.booked - n)
        )


async def insert_booking(
    conn: AsyncConnection,
    *,
    code: str,
    campaign_id: int,
    centre_id: int,
    vaccine_code: str,
    phone: str,
    verification_id: str | None,
    channel: str,
    now: datetime,
    people: Sequence[Person],
    booked: Sequence[Appointment],
    admission: str | None = None,
    language: str = "de",
) -> int:
    booking_id: int = (
        await conn.execute(
            bookings.insert()
            .values(
                code=code,
                campaign_id=campaign_id,
                centre_id=centre_id,
                vaccine_code=vaccine_code,
                status="booked",
                phone=phone,
                verification_id=verification_id,
                channel=channel,
                created_at=now,
                admission=admission,
                language=language,
            )
            .returning(bookings.c.id)
        )
    ).scalar_one()
    await conn.execute(
        persons.insert(),
        [
            {"booking_id": booking_id, "campaign_id": campaign_id, "active": True, **row}
            for row in person_rows(people)
        ],
    )
    await conn.execute(
        appointments.insert(),
        [
            {
                "booking_id": booking_id,
                "person_position": a.person,
                "slot_id": a.slot_id,
                "dose": a.dose,
                "status": "booked",
            }
            for a in booked
        ],
    )
    return booking_id


async def find_booking(conn: AsyncConnection, code: str) -> Row[tuple[object, ...]] | None:
    return (await conn.execute(select(bookings).where(bookings.c.code == code))).first()


async def find_booking_of(
    conn: AsyncConnection, code: str, born: date
) -> Row[tuple[object, ...]] | None:
    """The booking with this code that holds a person born on `born`."""
    holds = (
        select(persons.c.id)
        .where(persons.c.booking_id == bookings.c.id, persons.c.birth_date == born)
        .exists()
    )
    return (await conn.execute(select(bookings).where(bookings.c.code == code, holds))).first()


async def booking_persons(conn: AsyncConnection, booking_id: int) -> list[Person]:
    rows = (
        await conn.execute(
            select(persons).where(persons.c.booking_id == booking_id).order_by(persons.c.position)
        )
    ).all()
    return [
        Person(
            r.first_name,
            r.last_name,
            r.birth_date,
            r.postcode,
            r.city,
            r.street,
            r.house_number,
            r.phone,
            r.email,
        )
        for r in rows
    ]


async def booking_appointments(
    conn: AsyncConnection, booking_id: int
) -> list[tuple[Appointment, str]]:
    query = (
        select(appointments, slots.c.starts_at)
        .join(slots, slots.c.id == appointments.c.slot_id)
        .where(appointments.c.booking_id == booking_id)
        .order_by(appointments.c.dose, appointments.c.person_position)
    )
    return [
        (Appointment(r.slot_id, r.starts_at, r.dose, r.person_position), r.status)
        for r in (await conn.execute(query)).all()
    ]


async def mark_cancelled(conn: AsyncConnection, booking_id: int, now: datetime) -> dict[int, int]:
    """Cancel a booked booking; the seats it held per slot (empty if it was not booked)."""
    done = await conn.execute(
        update(bookings)
        .where(bookings.c.id == booking_id, bookings.c.status == "booked")
        .values(status="cancelled", cancelled_at=now)
        .returning(bookings.c.id)
    )
    if done.first() is None:
        return {}
    await conn.execute(
        update(persons).where(persons.c.booking_id == booking_id).values(active=False)
    )
    freed = await conn.execute(
        update(appointments)
        .where(and_(appointments.c.booking_id == booking_id, appointments.c.status == "booked"))
        .values(status="cancelled")
        .returning(appointments.c.slot_id)
    )
    seats: dict[int, int] = {}
    for slot_id in freed.scalars().all():
        seats[slot_id] = seats.get(slot_id, 0) + 1
    return seats


async def active_person_keys(
    conn: AsyncConnection, campaign_id: int, keys: Sequence[str]
) -> set[str]:
    query = select(persons.c.person_key).where(
        persons.c.campaign_id == campaign_id, persons.c.active, persons.c.person_key.in_(keys)
    )
    return set((await conn.execute(query)).scalars().all())


async def stored_response(conn: AsyncConnection, scope: str, key: str) -> StoredResponse | None:
    row = (
        await conn.execute(
            select(idempotency_keys).where(
                idempotency_keys.c.scope == scope, idempotency_keys.c.key == key
            )
        )
    ).first()
    return None if row is None else StoredResponse(row.request_hash, row.status_code, row.response)


async def store_response(
    conn: AsyncConnection, scope: str, key: str, response: StoredResponse, now: datetime
) -> None:
    await conn.execute(
        idempotency_keys.insert().values(
            scope=scope,
            key=key,
            request_hash=response.request_hash,
            status_code=response.status_code,
            response=response.body,
            created_at=now,
        )
    )


# --- rebooking: move a booked booking to another offer in one transaction -------------------


async def lock_booked(conn: AsyncConnection, code: str) -> Row[tuple[object, ...]] | None:
    """The booking if it is still booked, locked (PostgreSQL) against a concurrent move or
    cancellation until the transaction ends; SQLite's write lock covers that already."""
    query = (
        select(bookings)
        .where(bookings.c.code == code, bookings.c.status == "booked")
        .with_for_update()
    )
    return (await conn.execute(query)).first()


async def recorded_at_centre(conn: AsyncConnection, booking_id: int) -> bool:
    """Whether a centre has recorded one of the booking's appointments (checked in,
    vaccinated, no-show): such a booking is under way and no longer moves as a whole."""
    query = select(appointments.c.id).where(
        appointments.c.booking_id == booking_id,
        appointments.c.status.not_in(("booked", "cancelled")),
    )
    return (await conn.execute(query.limit(1))).first() is not None


async def booked_seats(conn: AsyncConnection, booking_id: int) -> dict[int, int]:
    """Seats per slot that the booking's booked appointments hold."""
    query = select(appointments.c.slot_id).where(
        appointments.c.booking_id == booking_id, appointments.c.status == "booked"
    )
    seats: dict[int, int] = {}
    for slot_id in (await conn.execute(query)).scalars().all():
        seats[slot_id] = seats.get(slot_id, 0) + 1
    return seats


async def replace_appointments(
    conn: AsyncConnection, booking_id: int, booked: Sequence[Appointment]
) -> None:
    """Swap the booked appointments for `booked` (the seats are the caller's business)."""
    await conn.execute(
        appointments.delete().where(
            appointments.c.booking_id == booking_id, appointments.c.status == "booked"
        )
    )
    await conn.execute(
        appointments.insert(),
        [
            {
                "booking_id": booking_id,
                "person_position": a.person,
                "slot_id": a.slot_id,
                "dose": a.dose,
                "status": "booked",
            }
            for a in booked
        ],
    )


async def move_booking(
    conn: AsyncConnection, booking_id: int, centre_id: int, vaccine_code: str
) -> None:
    await conn.execute(
        update(bookings)
        .where(bookings.c.id == booking_id)
        .values(centre_id=centre_id, vaccine_code=vaccine_code)
    )


async def retire_persons(conn: AsyncConnection, booking_id: int, positions: Sequence[int]) -> None:
    """These persons of a booking stop being active (their next booking is the active one);
    a second dose booked at a centre does it in its own transaction (booking/service.py)."""
    await conn.execute(
        update(persons)
        .where(persons.c.booking_id == booking_id, persons.c.position.in_(positions))
        .values(active=False)
    )
