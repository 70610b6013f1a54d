"""The personal-data purge (kontingent.retention and `kontingent purge-personal-data`), on
SQLite and PostgreSQL.

The rules under test: only bookings whose every appointment lay before the day named lose
their persons' names, birth dates, addresses, phones and e-mail addresses; the anonymous rest
(bookings, appointments, seats, centre, vaccine, channel, dates) stays; the dry run counts
exactly what the purge then takes; batches are audited each in its own transaction; a second
run purges nothing; a purged booking can no longer be found; a day still to come is refused.
"""

from __future__ import annotations

import asyncio
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kontingent.agent import repository as agent_repo
from kontingent.app import Services
from kontingent.booking.service import BookingView
from kontingent.cli import app
from kontingent.clock import BERLIN, FixedClock
from kontingent.config import Settings
from kontingent.errors import InvalidInput, NotFound
from kontingent.inventory.model import Offer
from kontingent.retention.service import ACTION, Purged, Retention
from kontingent.schema import appointments, bookings, persons, slots
from kontingent.services import build_services
from kontingent.staff.audit import Actor, Channel, Entry
from kontingent.staff.tables import audit_log
from tests.support import BIELEFELD, T0, claims_for, person, phone

ENTRY = Entry(Actor("cli:tester"), "", Channel.cli)
PERSONAL = ("first_name", "last_name", "birth_date", "postcode", "city", "street")
PERSONAL += ("house_number", "phone", "email")


async def offers(services: Services, persons_: int = 1) -> list[Offer]:
    return list((await services.inventory.offers(BIELEFELD, "BNT", persons_, limit=50)).offers)


async def book(services: Services, offer: Offer, i: int, *people: dict[str, Any]) -> BookingView:
    claims = await claims_for(services, phone(i))
    return await services.booking.book(claims, list(people), offer.slot_ids)


async def last_day(services: Services, code: str) -> date:
    async with services.db.read() as conn:
        query = (
            select(func.max(slots.c.day))
            .select_from(appointments.join(slots).join(bookings))
            .where(bookings.c.code == code)
        )
        return (await conn.execute(query)).scalar_one()


async def persons_of(services: Services, code: str) -> list[dict[str, Any]]:
    async with services.db.read() as conn:
        query = (
            select(persons, bookings.c.phone.label("booking_phone"), bookings.c.purged_at)
            .join(bookings)
            .where(bookings.c.code == code)
            .order_by(persons.c.position)
        )
        return [dict(r) for r in (await conn.execute(query)).mappings()]


async def anonymous(services: Services) -> list[tuple[Any, ...]]:
    """What must survive a purge: per appointment its booking, status, centre, vaccine,
    channel, slot and day, and the seats every slot holds."""
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(
                bookings.c.code,
                bookings.c.status,
                bookings.c.centre_id,
                bookings.c.vaccine_code,
                bookings.c.channel,
                appointments.c.dose,
                appointments.c.status,
                slots.c.id,
                slots.c.day,
                slots.c.booked,
            )
            .select_from(appointments.join(bookings).join(slots))
            .order_by(appointments.c.id)
        )
        return [tuple(r) for r in rows]


@pytest.fixture
async def booked(services: Services) -> tuple[BookingView, BookingView, BookingView]:
    """One person and a couple on the earliest offers, one person on a later one."""
    early, *_, late = await offers(services)
    couple = (await offers(services, 2))[0]
    first = await book(services, early, 0, person(0))
    pair = await book(services, couple, 1, person(1), person(2, first_name="Hans"))
    later = await book(services, late, 3, person(3))
    return first, pair, later


async def test_a_purge_takes_the_personal_data_of_ended_bookings_only(
    services: Services, clock: FixedClock, booked: tuple[BookingView, ...]
) -> None:
    first, pair, later = booked
    cutoff = max([await last_day(services, v.code) for v in (first, pair)]) + timedelta(days=1)
    assert await last_day(services, later.code) >= cutoff  # the later booking's second dose
    clock.set(datetime.combine(cutoff, datetime.min.time(), tzinfo=BERLIN) + timedelta(hours=9))
    retention = Retention(services.db, clock, batch=1)
    kept = await anonymous(services)

    assert await retention.count(cutoff) == Purged(bookings=2, persons=3)
    assert await retention.purge(cutoff, ENTRY) == Purged(bookings=2, persons=3)

    for view in (first, pair):
        for row in await persons_of(services, view.code):
            assert [row[k] for k in PERSONAL] == ["", "", None, "", "", "", "", "", None]
            assert row["person_key"] == f"purged:{row['id']}" and row["booking_phone"] == ""
            assert row["purged_at"] == clock.now()
    untouched = (await persons_of(services, later.code))[0]
    assert untouched["first_name"] == "Erika" and untouched["booking_phone"] != ""
    assert untouched["purged_at"] is None
    assert await anonymous(services) == kept


async def test_the_day_of_the_last_appointment_is_not_yet_over(
    services: Services, clock: FixedClock, booked: tuple[BookingView, ...]
) -> None:
    day = await last_day(services, booked[0].code)
    clock.set(datetime.combine(day, datetime.min.time(), tzinfo=BERLIN) + timedelta(hours=21))
    retention = Retention(services.db, clock)
    assert await retention.count(day) == Purged(0, 0)
    assert await retention.purge(day, ENTRY) == Purged(0, 0)
    assert (await persons_of(services, booked[0].code))[0]["birth_date"] is not None


async def test_each_batch_is_audited_and_a_second_run_purges_nothing(
    services: Services, clock: FixedClock, booked: tuple[BookingView, ...]
) -> None:
    clock.set(T0 + timedelta(days=400))
    retention = Retention(services.db, clock, batch=2)
    assert await retention.purge(clock.now().date(), ENTRY) == Purged(bookings=3, persons=4)
    assert await retention.purge(clock.now().date(), ENTRY) == Purged(0, 0)
    assert await retention.count(clock.now().date()) == Purged(0, 0)
    async with services.db.read() as conn:
        rows = (await conn.execute(select(audit_log).order_by(audit_log.c.id))).mappings().all()
    assert [(r["action"], r["channel"], r["username"]) for r in rows] == [
        (ACTION, "cli", "cli:tester")
    ] * 2  # batches of 2 and 1; the second run wrote nothing
    assert [(r["details"]["bookings"], r["details"]["persons"]) for r in rows] == [(2, 3), (1, 1)]


async def test_a_purged_booking_cannot_be_found_by_code_and_birth_date(
    services: Services, clock: FixedClock, booked: tuple[BookingView, ...]
) -> None:
    code = booked[0].code
    assert (await services.booking.find(code, "1939-05-01")).code == code
    async with services.db.read() as conn:
        assert len(await agent_repo.ids_by_code(conn, code)) == 1
    clock.set(T0 + timedelta(days=400))
    await Retention(services.db, clock).purge(clock.now().date(), ENTRY)
    with pytest.raises(NotFound):
        await services.booking.find(code, "1939-05-01")
    async with services.db.read() as conn:  # nor by the hotline's search by code
        assert await agent_repo.ids_by_code(conn, code) == []


async def test_a_day_still_to_come_is_refused(services: Services, clock: FixedClock) -> None:
    tomorrow = (T0 + timedelta(days=1)).date()
    with pytest.raises(InvalidInput) as refused:
        await Retention(services.db, clock).count(tomorrow)
    assert refused.value.code == "ended_before_in_future"
    assert "after today" in refused.value.message


# --- the command ------------------------------------------------------------------------------


def purge_command(database: str, *args: str) -> Any:
    result = CliRunner().invoke(app, ["purge-personal-data", "--database-url", database, *args])
    result.said = " ".join(result.output.split())
    return result


def test_the_command_counts_then_purges_and_refuses_what_it_cannot_read(
    tmp_path: Path, sqlite_template: Path
) -> None:
    """On a seeded SQLite copy with one booking from January 2026; the command's clock is the
    system's, so any day up to today is allowed."""
    path = tmp_path / "purge.sqlite3"
    shutil.copy(sqlite_template, path)
    database = f"sqlite+aiosqlite:///{path}"

    async def one_booking() -> None:
        services = build_services(Settings(database_url=database), FixedClock(T0))
        try:
            await book(services, (await offers(services))[0], 0, person(0))
        finally:
            await services.db.dispose()

    asyncio.run(one_booking())
    dry = purge_command(database, "--ended-before", "2026-06-01", "--dry-run")
    assert dry.exit_code == 0 and "would purge the personal data of 1 persons in 1 bookings" in (
        dry.said
    )
    done = purge_command(database, "--ended-before", "2026-06-01")
    assert done.exit_code == 0 and "purged the personal data of 1 persons in 1" in done.said
    again = purge_command(database, "--ended-before", "2026-06-01")
    assert "purged the personal data of 0 persons in 0 bookings" in again.said
    wrong = purge_command(database, "--ended-before", "1.6.2026")
    assert wrong.exit_code == 2 and "write it as YYYY-MM-DD" in wrong.said
    future = purge_command(database, "--ended-before", "2999-01-01")
    assert future.exit_code == 2 and "after today" in future.said
