"""A centre of the tests' own, made through the admin's use case, with a released JNJ
contingent of a week of slots; taken out again afterwards with everything that names it
(PostgreSQL's reference tables outlive one test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, time, timedelta

import pytest
from sqlalchemy import delete, func, select

from kontingent.admin.centres_service import AdminCentres, By, CentreFields
from kontingent.app import Services
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.model import slot_starts
from kontingent.schema import (
    appointments,
    bookings,
    centres,
    contingents,
    persons,
    slot_days,
    slots,
)
from kontingent.staff.audit import Actor, Channel
from tests.support import T0

BY = By(Actor("admin.test", None, "admin"), Channel.api, None)
WEEK = {d: ("08:00", "12:00") for d in range(7)}
FIRST_DAY = T0.date() + timedelta(days=1)  # Tuesday 13 January 2026
DAYS = 7
CAPACITY = 8  # 2 lanes, 20 minutes


async def make_centre(services: Services, percent: int = 0) -> int:
    fields = CentreFields(
        name="Impfzentrum Probe",
        street="Teststraße 1",
        postcode="33602",
        city="Bielefeld",
        lanes=2,
        slot_minutes=20,
        hours=WEEK,
    )
    centre = await AdminCentres.of(services).create(fields, BY)
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    release = T0 - timedelta(hours=1)
    async with services.db.write() as conn:
        contingent_id, _ = await inventory_repo.add_contingent(
            conn,
            centre_id=centre.id,
            vaccine_code="JNJ",
            first_day=FIRST_DAY,
            last_day=last,
            release_at=release,
            now=T0,
            phone_share_percent=percent,
        )
        rows = [
            {
                "centre_id": centre.id,
                "vaccine_code": "JNJ",
                "starts_at": at,
                "capacity": CAPACITY,
                "booked": 0,
                "contingent_id": contingent_id,
                "bookable_from": release,
            }
            for i in range(DAYS)
            for at in slot_starts(FIRST_DAY + timedelta(days=i), time(8), time(12), 20)
        ]
        await inventory_repo.insert_slots(conn, rows)
    services.inventory.catalogue_changed()
    return centre.id


async def drop_centre(services: Services, centre_id: int) -> None:
    ids = select(bookings.c.id).where(bookings.c.centre_id == centre_id)
    async with services.db.write() as conn:
        await conn.execute(delete(appointments).where(appointments.c.booking_id.in_(ids)))
        await conn.execute(delete(persons).where(persons.c.booking_id.in_(ids)))
        await conn.execute(delete(bookings).where(bookings.c.centre_id == centre_id))
        await conn.execute(delete(slots).where(slots.c.centre_id == centre_id))
        await conn.execute(delete(slot_days).where(slot_days.c.centre_id == centre_id))
        await conn.execute(delete(contingents).where(contingents.c.centre_id == centre_id))
        await conn.execute(delete(centres).where(centres.c.id == centre_id))
    services.inventory.catalogue_changed()


@pytest.fixture
async def centre(services: Services) -> AsyncIterator[int]:
    centre_id = await make_centre(services)
    try:
        yield centre_id
    finally:
        await drop_centre(services, centre_id)


async def day_sums_match(services: Services, centre_id: int) -> None:
    """`slot_days` holds exactly the sums over `slots` of the released slots, per key."""
    key = (slots.c.centre_id, slots.c.vaccine_code, slots.c.day, slots.c.bookable_from)
    from_slots = (
        select(
            *key,
            func.sum(slots.c.capacity),
            func.sum(slots.c.booked),
            func.sum(slots.c.phone_reserved),
        )
        .where(slots.c.centre_id == centre_id, slots.c.bookable_from.is_not(None))
        .group_by(*key)
    )
    kept = select(
        slot_days.c.centre_id,
        slot_days.c.vaccine_code,
        slot_days.c.day,
        slot_days.c.bookable_from,
        slot_days.c.capacity,
        slot_days.c.booked,
        slot_days.c.phone_reserved,
    ).where(slot_days.c.centre_id == centre_id)
    async with services.db.read() as conn:
        expected = {tuple(r[:4]): tuple(map(int, r[4:])) for r in await conn.execute(from_slots)}
        found = {
            tuple(r[:4]): tuple(map(int, r[4:]))
            for r in await conn.execute(kept)
            if any(r[4:])  # a key emptied by deletes may stay behind with zeros
        }
    assert found == {k: v for k, v in expected.items() if any(v)}
    assert expected, "the centre has released slots"


def days_after(first: date, n: int) -> date:
    return first + timedelta(days=n)
