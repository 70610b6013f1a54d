"""Helpers of the centre tests: a booking made over HTTP, and a centre's records of it
(a dose given, a second appointment freed) written as the centre's desk leaves them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from kontingent.app import Services
from kontingent.schema import appointments, bookings, persons, slots
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_booking_api import book, offer_ids
from tests.support import person

Client = AsyncTestClient[Litestar]


async def booked_pair(client: Client, get_token: GetToken, i: int, **who: Any) -> dict[str, Any]:
    """A web booking of one person's BioNTech pair at Bielefeld; its answer."""
    answer = await book(client, await get_token(i), [person(i, **who)], await offer_ids(client))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def dose_start(booking: dict[str, Any], dose: int) -> datetime:
    return next(
        datetime.fromisoformat(a["start"]) for a in booking["appointments"] if a["dose"] == dose
    )


async def record(svc: Services, code: str, dose: int, status: str) -> None:
    """Set the status of the booking's appointments of `dose` (what the door records)."""
    ids = select(bookings.c.id).where(bookings.c.code == code).scalar_subquery()
    async with svc.db.write() as conn:
        await conn.execute(
            update(appointments)
            .where(appointments.c.booking_id == ids, appointments.c.dose == dose)
            .values(status=status)
        )


async def free_second(svc: Services, code: str) -> None:
    """The second appointment cancelled and its seat freed (a no-show's confirmed choice)."""
    ids = select(bookings.c.id).where(bookings.c.code == code).scalar_subquery()
    async with svc.db.write() as conn:
        freed = await conn.execute(
            update(appointments)
            .where(appointments.c.booking_id == ids, appointments.c.dose == 2)
            .values(status="cancelled")
            .returning(appointments.c.slot_id)
        )
        for slot_id in freed.scalars().all():
            await conn.execute(
                update(slots).where(slots.c.id == slot_id).values(booked=slots.c.booked - 1)
            )


async def active_codes(svc: Services, last_name: str) -> list[str]:
    """The codes of the bookings in which a person of this last name is active."""
    query = (
        select(bookings.c.code)
        .join(persons, persons.c.booking_id == bookings.c.id)
        .where(persons.c.last_name == last_name, persons.c.active)
    )
    async with svc.db.read() as conn:
        return list((await conn.execute(query)).scalars())
