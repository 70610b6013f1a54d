"""The two booking write paths write the same rows: the statement-by-statement transaction
(`book_seats`, the SQLite path) and the one PostgreSQL statement (`book_seats_pg`, which
sends persons and outbox rows as JSON record sets). Both run here on PostgreSQL with the
same booking, and every row they write is compared column by column, ids aside."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from kontingent.app import Services
from kontingent.booking import repository as repo
from kontingent.booking.model import Person
from kontingent.booking.pg_statement import NewBooking, Remembered
from kontingent.inventory import repository as inventory_repo
from kontingent.notifications.messages import booking_messages, pin_sms
from kontingent.notifications.model import DEFAULT_CAP, BookedAppointment
from kontingent.schema import appointments, bookings, idempotency_keys, outbox, persons, slots
from kontingent.staff.audit import Actor, Entry
from kontingent.staff.tables import audit_log
from tests.support import BIELEFELD, T0

pytestmark = pytest.mark.postgres


def _people() -> list[Person]:
    return [
        Person(
            "Jürgen", "Öztürk-Weiß", date(1938, 2, 28), "33602", "Bielefeld",
            "Straße des 17. Juni; Hof, links", "3\\4", "+491701000001", None,
        ),
        Person(
            "Ærøskøbing", "D'Ângelo \"Zé\"", date(1940, 12, 31), "33602", "Bielefeld",
            "Hauptstraße", "12a", "+491701000001", "jürgen@example.org",
        ),
    ]  # fmt: skip


async def _new_booking(services: Services) -> NewBooking:
    offer = (await services.inventory.offers(BIELEFELD, "BNT", 2, limit=1)).offers[0]
    catalogue = await services.inventory.catalogue()
    centre = catalogue.centres[BIELEFELD]
    people = _people()
    booked = list(offer.appointments)
    events = [
        BookedAppointment(a.starts_at, a.dose, f"{people[a.person].first_name}", 20, a.slot_id)
        for a in booked
    ]
    messages = booking_messages(
        code="ABCD-EFGH-JKLM",
        phone=people[0].phone,
        emails=[p.email for p in people if p.email],
        centre=centre.name,
        address=f"{centre.street}, {centre.postcode} {centre.city}",
        vaccine="BioNTech/Comirnaty",
        appointments=events,
    )
    return NewBooking(
        seats={a.slot_id: 1 for a in booked} | {booked[0].slot_id: 2},
        now=T0 + timedelta(microseconds=123456),
        until=catalogue.campaign.booking_until,
        code="ABCD-EFGH-JKLM",
        campaign_id=catalogue.campaign.id,
        centre_id=centre.id,
        vaccine_code="BNT",
        phone=people[0].phone,
        verification_id=None,
        channel="hotline",
        people=people,
        booked=booked,
        messages=[*messages, pin_sms(people[0].phone, "123456", 30)],  # one with expires_at
        remembered=Remembered("+491701000001", "key-1", "f" * 64, 201, b'{"code":"\x00\xff"}'),
        cap=DEFAULT_CAP,
        admission="t" * 43,  # a waiting-room ticket
        audit=Entry(  # a hotline agent's booking
            Actor("agent.anna", 7, "agent"),
            "booking.create",
            "api",
            target="ABCD-EFGH-JKLM",
            ip="192.0.2.1",
            details={"slot_ids": [a.slot_id for a in booked], "note": 'Jürgen "Zé" \\ \u00ff'},
        ),
    )


async def _written(services: Services, booking_id: int, b: NewBooking) -> dict[str, Any]:
    async with services.db.read() as conn:

        async def rows(table: Any, *where: Any, skip: tuple[str, ...] = ()) -> list[dict[str, Any]]:
            result = await conn.execute(select(table).where(*where))
            return sorted(
                ({k: v for k, v in r._mapping.items() if k not in skip} for r in result),
                key=repr,
            )

        ids = [m.message_id for m in b.messages]
        return {
            "booking": await rows(bookings, bookings.c.id == booking_id, skip=("id",)),
            "persons": await rows(
                persons, persons.c.booking_id == booking_id, skip=("id", "booking_id")
            ),
            "appointments": await rows(
                appointments, appointments.c.booking_id == booking_id, skip=("id", "booking_id")
            ),
            "outbox": await rows(outbox, outbox.c.message_id.in_(ids), skip=("id",)),
            "idempotency": await rows(idempotency_keys, idempotency_keys.c.key == "key-1"),
            "seats": await rows(slots, slots.c.id.in_(list(b.seats))),
        }


async def _undo(services: Services, booking_id: int, b: NewBooking) -> None:
    async with services.db.write() as conn:
        await conn.execute(delete(appointments).where(appointments.c.booking_id == booking_id))
        await conn.execute(delete(persons).where(persons.c.booking_id == booking_id))
        await conn.execute(delete(bookings).where(bookings.c.id == booking_id))
        await conn.execute(
            delete(outbox).where(outbox.c.message_id.in_([m.message_id for m in b.messages]))
        )
        await conn.execute(delete(idempotency_keys))
        for slot_id, n in b.seats.items():
            await conn.execute(
                update(slots).where(slots.c.id == slot_id).values(booked=slots.c.booked - n)
            )


async def test_both_write_paths_write_the_same_rows(services: Services) -> None:
    if not services.db.has_driver:
        pytest.skip("the one-statement path exists on PostgreSQL only")
    b = await _new_booking(services)

    one = await services.db.run_driver(lambda conn: repo.book_seats_pg(conn, b))
    assert one is not None
    by_statement = await _written(services, one, b)
    await _undo(services, one, b)

    other = await services.db.run_write(lambda conn: repo.book_seats(conn, b))
    assert other is not None
    by_steps = await _written(services, other, b)

    assert by_statement == by_steps
    async with services.db.read() as conn:  # append-only: both paths' rows stay
        query = select(audit_log).where(audit_log.c.target == b.code)
        audited = [{k: v for k, v in r._mapping.items() if k != "id"}
                   for r in await conn.execute(query)]  # fmt: skip
    assert len(audited) == 2 and audited[0] == audited[1]
    assert audited[0]["username"] == "agent.anna" and audited[0]["at"] == b.now
    assert audited[0]["details"]["note"] == 'Jürgen "Zé" \\ \u00ff'
    assert by_statement["booking"][0]["admission"] == b.admission
    assert len(by_statement["persons"]) == 2
    assert len(by_statement["outbox"]) == len(b.messages)
    assert {r["expires_at"] is None for r in by_statement["outbox"]} == {True, False}
    assert any(r["calendar"] and "\r\n" in r["calendar"] for r in by_statement["outbox"])


async def test_both_slot_info_reads_agree(services: Services) -> None:
    """What a booking checks about slots outside the availability readings: the driver's
    prepared statement reads what SQLAlchemy reads, released or not, unknown ids left out."""
    if not services.db.has_driver:
        pytest.skip("the driver path exists on PostgreSQL only")
    async with services.db.write() as conn:
        ids = [r[0] for r in await conn.execute(select(slots.c.id).order_by(slots.c.id).limit(3))]
        await conn.execute(update(slots).where(slots.c.id == ids[0]).values(bookable_from=None))
    wanted = [*ids, 10**9, -1]

    by_driver = await services.db.run_driver(
        lambda conn: inventory_repo.slot_infos_pg(conn, wanted)
    )
    async with services.db.read() as conn:
        by_sqlalchemy = await inventory_repo.slot_infos(conn, wanted)

    assert by_driver == by_sqlalchemy
    assert set(by_driver) == set(ids)
    assert by_driver[ids[0]].bookable_from is None
    assert all(i.starts_at.tzinfo is not None for i in by_driver.values())
    assert any(i.bookable_from is not None and i.bookable_from.tzinfo for i in by_driver.values())
