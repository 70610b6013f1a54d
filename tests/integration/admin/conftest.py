"""Fixtures of the admin tests: an admin's bearer token; the reference tables these tests
change (vaccines, cohorts, the campaign, contingents' phone shares) put back after each test,
since on PostgreSQL they outlive it (tests/conftest.py resets the mutable tables only); and a
centre of the tests' own, made through the admin's use case, with a released JNJ contingent of
a week of slots, taken out again afterwards with everything that names it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, time, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import delete, func, insert, select, update

from kontingent.admin.centres_service import AdminCentres, By, CentreFields
from kontingent.app import Services
from kontingent.booking.service import BookingView
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.model import slot_starts
from kontingent.schema import (
    appointments,
    bookings,
    campaigns,
    centres,
    cohort_vaccines,
    cohorts,
    contingents,
    persons,
    slot_days,
    slots,
    vaccines,
    waitlist,
)
from kontingent.staff.audit import Actor, Channel
from kontingent.staff.model import Role
from tests.integration.api.conftest import get_token, svc
from tests.integration.staff.conftest import ACCOUNTS, PASSWORD, add_accounts
from tests.integration.test_races import claims
from tests.support import BIELEFELD, T0, person, phone

__all__ = ["get_token", "svc"]  # the API tests' fixtures, used here too

Client = AsyncTestClient[Litestar]
KEPT = (vaccines, campaigns, cohorts, cohort_vaccines)


@pytest.fixture(autouse=True)
async def kept_reference(services: Services) -> AsyncIterator[None]:
    async with services.db.read() as conn:
        before = {t.name: (await conn.execute(select(t))).mappings().all() for t in KEPT}
        shares = (
            await conn.execute(select(contingents.c.id, contingents.c.phone_share_percent))
        ).all()
    yield
    async with services.db.write() as conn:
        await conn.execute(delete(cohort_vaccines))
        await conn.execute(delete(cohorts))
        codes = [r["code"] for r in before["vaccines"]]
        await conn.execute(delete(vaccines).where(vaccines.c.code.not_in(codes)))
        for row in before["vaccines"]:
            await conn.execute(update(vaccines).where(vaccines.c.code == row["code"]).values(**row))
        for row in before["campaigns"]:
            await conn.execute(update(campaigns).where(campaigns.c.id == row["id"]).values(**row))
        await conn.execute(insert(cohorts), [dict(r) for r in before["cohorts"]])
        await conn.execute(insert(cohort_vaccines), [dict(r) for r in before["cohort_vaccines"]])
        for cid, percent in shares:
            await conn.execute(
                update(contingents)
                .where(contingents.c.id == cid)
                .values(phone_share_percent=percent)
            )


@pytest.fixture
async def admin(client: Client, services: Services) -> dict[str, str]:
    """The headers of an admin's API token."""
    await add_accounts(services)
    answer = await client.post(
        "/api/v1/auth/token",
        json={"username": ACCOUNTS[Role.admin].username, "password": PASSWORD},
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def audit_rows(services: Services, prefix: str) -> list[dict[str, Any]]:
    from kontingent.staff.tables import audit_log

    async with services.db.read() as conn:
        query = (
            select(audit_log).where(audit_log.c.action.startswith(prefix)).order_by(audit_log.c.id)
        )
        return [dict(r) for r in (await conn.execute(query)).mappings()]


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


async def make_bookings(services: Services) -> list[BookingView]:
    """Two web bookings (one of a couple) and one phone booking at Bielefeld, BNT, made the way
    the portal and the hotline make them, for the admin figures."""
    tokens = await claims(services, [phone(n) for n in range(3)])
    made = []
    for n, (count, channel) in enumerate([(1, "web"), (2, "web"), (1, "phone")]):
        offer = (await services.inventory.offers(BIELEFELD, "BNT", count, limit=1)).offers[0]
        people = [person(10 * n + i) for i in range(count)]
        made.append(await services.booking.book(tokens[n], people, offer.slot_ids, channel=channel))
    return made


@pytest.fixture(autouse=True)
async def no_waitlist(services: Services) -> AsyncIterator[None]:
    """The release tests leave no one waiting: the waitlist is no table the fixtures reset,
    and an entry left on PostgreSQL would get its SMS in a later test's scheduler."""
    async with services.db.write() as conn:
        await conn.execute(waitlist.delete())
    yield
    async with services.db.write() as conn:
        await conn.execute(waitlist.delete())
