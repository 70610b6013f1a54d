"""Day-before reminders, on SQLite and PostgreSQL, with the clock moved instead of waiting.

Proves: one reminder SMS per booked appointment, to the booking's verified number and never
by e-mail (tests/integration/test_hardening_recipients.py shows why), from 09:00 Berlin on the day
before, queued once however often and by however many relays the job runs; none for a
cancelled booking; none on top of a confirmation sent after the reminder time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, time, timedelta

from sqlalchemy import select

from kontingent.app import Services, build_services
from kontingent.booking.service import BookingView
from kontingent.clock import BERLIN, FixedClock
from kontingent.inventory.model import Offer, local_day
from kontingent.notifications import repository as repo
from kontingent.schema import appointments, bookings
from tests.integration.notifications.conftest import rows
from tests.support import BIELEFELD, T0, claims_for, person, phone


async def offer_from(services: Services, days_ahead: int) -> Offer:
    """The first offer whose first dose is at least `days_ahead` days after T0."""
    offers = (await services.inventory.offers(BIELEFELD, "BNT", limit=5000)).offers
    return next(
        o for o in offers if (local_day(o.appointments[0].starts_at) - T0.date()).days >= days_ahead
    )


async def book(services: Services, i: int, offer: Offer) -> BookingView:
    claims = await claims_for(services, phone(i))
    return await services.booking.book(claims, [person(i)], offer.slot_ids)


async def appointment_ids(services: Services, code: str) -> list[int]:
    async with services.db.read() as conn:
        result = await conn.execute(
            select(appointments.c.id)
            .join(bookings, bookings.c.id == appointments.c.booking_id)
            .where(bookings.c.code == code)
            .order_by(appointments.c.dose)
        )
        return list(result.scalars().all())


def day_before(start: datetime, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(local_day(start) - timedelta(days=1), time(hour, minute), BERLIN)


async def reminders(services: Services) -> list[dict[str, object]]:
    return [r for r in await rows(services) if str(r["message_id"]).startswith("rem-")]


async def test_each_appointment_is_reminded_once_from_nine_on_the_day_before(
    services: Services, clock: FixedClock
) -> None:
    view = await book(services, 1, await offer_from(services, days_ahead=2))
    first, second = view.appointments
    ids = await appointment_ids(services, view.code)

    clock.set(day_before(first.starts_at, 8, 59))
    assert await services.relay.send_reminders() == 0
    clock.set(day_before(first.starts_at, 9))
    assert await services.relay.send_reminders() == 1  # the SMS for the first dose
    assert await services.relay.send_reminders() == 0

    queued = await reminders(services)
    assert [str(r["message_id"]) for r in queued] == [f"rem-{ids[0]}"]
    assert {r["recipient"] for r in queued} == {phone(1)}
    assert all(view.code in str(r["body"]) and "1. Impfung" in str(r["body"]) for r in queued)
    await services.relay.run_once()
    async with services.db.read() as conn:
        [sms] = [m for m in await repo.mailbox(conn, phone(1)) if "Erinnerung" in m["body"]]
    assert view.code in sms["body"]

    clock.set(day_before(second.starts_at, 18))
    assert await services.relay.send_reminders() == 1
    assert len(await reminders(services)) == 2


async def test_a_cancelled_booking_gets_no_reminder(services: Services, clock: FixedClock) -> None:
    view = await book(services, 1, await offer_from(services, days_ahead=2))
    await services.booking.cancel(view.code, "1939-05-01")

    clock.set(day_before(view.appointments[0].starts_at, 12))

    assert await services.relay.send_reminders() == 0
    assert await reminders(services) == []


async def test_a_reminder_queued_before_the_cancellation_is_never_sent(
    services: Services, clock: FixedClock
) -> None:
    view = await book(services, 1, await offer_from(services, days_ahead=2))
    keep = await book(services, 2, await next_offer(services, await offer_from(services, 2)))
    clock.set(day_before(min(view.appointments[0].starts_at, keep.appointments[0].starts_at), 9))
    assert await services.relay.send_reminders() == 2  # queued for both bookings
    await services.booking.cancel(view.code, "1939-05-01")

    await services.relay.run_once()

    async with services.db.read() as conn:
        delivered = [m for m in await repo.mailbox(conn, None) if "Erinnerung" in m["body"]]
    assert {m["recipient"] for m in delivered} == {phone(2)}
    assert all(keep.code in m["body"] and view.code not in m["body"] for m in delivered)
    assert {str(r["message_id"]) for r in await reminders(services)} == {
        f"rem-{i}" for i in (await appointment_ids(services, keep.code))[:1]
    }  # the cancelled booking's reminders are gone from the outbox, not parked


async def test_a_reminder_for_a_moved_appointment_is_never_sent(
    services: Services, clock: FixedClock
) -> None:
    first = await offer_from(services, days_ahead=2)
    view = await book(services, 1, first)
    clock.set(day_before(view.appointments[0].starts_at, 9))
    assert await services.relay.send_reminders() == 1
    later = await offer_from(services, days_ahead=9)
    await services.booking.rebook(view.code, "1939-05-01", later.slot_ids)

    await services.relay.run_once()

    async with services.db.read() as conn:
        delivered = [m for m in await repo.mailbox(conn, None) if "Erinnerung" in m["body"]]
    assert delivered == []
    assert await reminders(services) == []


async def test_a_booking_made_after_the_reminder_time_gets_no_extra_reminder(
    services: Services, clock: FixedClock
) -> None:
    view = await book(services, 1, await offer_from(services, days_ahead=0))
    assert local_day(view.appointments[0].starts_at) <= T0.date() + timedelta(days=1)

    assert await services.relay.send_reminders() == 0
    clock.advance(timedelta(hours=2))
    assert await services.relay.send_reminders() == 0
    assert await reminders(services) == []


async def test_two_relays_running_the_job_at_once_queue_each_reminder_once(
    services: Services, clock: FixedClock
) -> None:
    offer = await offer_from(services, days_ahead=2)
    views = [
        await book(services, i, o) for i, o in enumerate([offer, await next_offer(services, offer)])
    ]
    clock.set(day_before(min(v.appointments[0].starts_at for v in views), 9))
    other = build_services(services.settings, clock)
    try:
        counts = await asyncio.gather(services.relay.send_reminders(), other.relay.send_reminders())
    finally:
        await other.db.dispose()

    queued = await reminders(services)
    assert sum(counts) == len(queued) == 2
    assert len({r["message_id"] for r in queued}) == 2


async def next_offer(services: Services, taken: Offer) -> Offer:
    """Another offer on the same first day as `taken` (its slots may be free still)."""
    offers = (await services.inventory.offers(BIELEFELD, "BNT", limit=5000)).offers
    day = local_day(taken.appointments[0].starts_at)
    return next(
        o
        for o in offers
        if local_day(o.appointments[0].starts_at) == day and o.slot_ids != taken.slot_ids
    )
