"""A closure day with bookings: refused until confirmed, then every booking of the day is
cancelled through the citizens' use case, each person gets an SMS and an e-mail in the
booking's language with the link to book anew, offers skip the day, a booking of one of its
slots is refused (409 `centre_closed`), the day's seats are gone from `slot_days`, and the
audit log holds the closure and each cancellation. Opening the day gives its slots back.
On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kontingent.admin.centres_closures import Change, DayClosures, change_centre
from kontingent.admin.centres_service import CentreFields
from kontingent.app import Services
from kontingent.errors import Conflict, InvalidInput
from kontingent.schema import bookings, outbox, slot_days, slots
from kontingent.staff.tables import audit_log
from tests.integration.admin.conftest import BY, CAPACITY, FIRST_DAY, day_sums_match
from tests.integration.admin.test_centres_slots import at, book_at, slot_rows
from tests.support import claims_for, person, phone

DAY = FIRST_DAY + timedelta(days=2)  # Thursday 15 January 2026


async def seats_on(services: Services, centre_id: int) -> int:
    query = select(func.coalesce(func.sum(slot_days.c.capacity - slot_days.c.booked), 0)).where(
        slot_days.c.centre_id == centre_id, slot_days.c.day == DAY
    )
    async with services.db.read() as conn:
        return int((await conn.execute(query)).scalar_one())


async def test_a_closure_with_bookings_cancels_them_and_tells_each_person(
    services: Services, centre: int
) -> None:
    codes = [
        await book_at(services, centre, at(2, 9), 0),
        await book_at(services, centre, at(2, 11, 20), 1),
    ]
    other = await book_at(services, centre, at(3, 9), 2)
    change = Change(CentreFields(), [(DAY, "Stromausfall")], [])
    with pytest.raises(Conflict) as refused:
        await change_centre(services, centre, change, BY)
    assert refused.value.code == "closure_has_bookings"
    assert sorted(refused.value.details["bookings"][DAY.isoformat()]) == sorted(codes)
    preview = await change_centre(
        services, centre, Change(CentreFields(), change.close, [], dry_run=True), BY
    )
    assert sorted(preview.pending[DAY.isoformat()]) == sorted(codes)
    assert await seats_on(services, centre) == 12 * CAPACITY - 2, "nothing written yet"

    done = await change_centre(services, centre, Change(CentreFields(), change.close, [], True), BY)
    assert sorted(done.closed[0].cancelled) == sorted(codes)
    assert done.outcome.centre.closures[0].day == DAY
    async with services.db.read() as conn:
        status = dict((await conn.execute(select(bookings.c.code, bookings.c.status))).all())
        sent = (
            await conn.execute(
                select(outbox.c.channel, outbox.c.recipient, outbox.c.body).where(
                    outbox.c.body.contains("geschlossen")
                )
            )
        ).all()
        actions = (
            await conn.execute(select(audit_log.c.action, audit_log.c.target, audit_log.c.details))
        ).all()
    assert [status[c] for c in codes] == ["cancelled", "cancelled"] and status[other] == "booked"
    for i in (0, 1):
        mine = [r for r in sent if r.recipient in (phone(i), "erika@example.org")]
        assert {r.channel for r in mine} == {"sms", "email"}
        assert all("/manage" in r.body for r in mine)
    assert [r for r in sent if "Stromausfall" in r.body]  # the e-mail says why
    closure = [r for r in actions if r.action == "centre.closure"]
    assert [(r.target, r.details["bookings"]) for r in closure] == [(f"centre:{centre}", 2)]
    cancelled = [r for r in actions if r.action == "booking.cancel"]
    assert sorted(r.target for r in cancelled) == sorted(codes)
    assert all(r.details["reason"] == "centre.closure" for r in cancelled)

    assert await seats_on(services, centre) == 0
    await day_sums_match(services, centre)
    offers = await services.inventory.offers(centre, "JNJ", 1, limit=100, alternatives=False)
    assert DAY not in {o.appointments[0].starts_at.date() for o in offers.offers}
    slot_id = (await slot_rows(services, centre))[at(2, 9)][2]  # kept: an old appointment names it
    with pytest.raises(Conflict) as closed:
        await services.booking.book(await claims_for(services, phone(5)), [person(5)], [slot_id])
    assert closed.value.code == "centre_closed" and "Stromausfall" in closed.value.message


async def test_opening_a_closed_day_gives_its_slots_back(services: Services, centre: int) -> None:
    closures = DayClosures.of(services)
    await closures.close(centre, DAY, "", BY)
    assert await seats_on(services, centre) == 0
    assert await closures.open(centre, DAY, BY)
    assert await seats_on(services, centre) == 12 * CAPACITY
    await day_sums_match(services, centre)
    offers = await services.inventory.offers(centre, "JNJ", 1, limit=100, alternatives=False)
    assert DAY in {o.appointments[0].starts_at.date() for o in offers.offers}
    assert not await closures.open(centre, DAY, BY), "open already"


async def test_a_closure_in_the_past_is_refused(services: Services, centre: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        await change_centre(
            services, centre, Change(CentreFields(), [(FIRST_DAY - timedelta(days=2), "")], []), BY
        )
    assert refused.value.details["field"] == "closures.add.day"
    async with services.db.read() as conn:
        count = (
            await conn.execute(
                select(func.count()).select_from(slots).where(slots.c.centre_id == centre)
            )
        ).scalar_one()
    assert count == 7 * 12
