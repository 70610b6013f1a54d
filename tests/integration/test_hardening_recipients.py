"""Issue 11, item 8: messages go only where their recipient asked for them. SMS go to the number
a PIN verified (the booking's phone), never to a `persons[].phone` typed in the form; e-mail
addresses, never confirmed, get their own booking's confirmation, cancellation and rebooking,
and no reminders. Both dialects; the clock is moved to the reminder time, nothing sleeps."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services
from kontingent.clock import FixedClock
from kontingent.inventory.model import local_day
from kontingent.schema import outbox
from tests.integration.notifications.test_reminders import day_before, offer_from
from tests.support import BIELEFELD, T0, person, phone, token_for

VERIFIED, TYPED_FIRST, TYPED_SECOND = phone(1), phone(51), phone(52)


async def queued(services: Services) -> list[dict[str, Any]]:
    async with services.db.read() as conn:
        rows = await conn.execute(select(outbox).where(outbox.c.priority != 0))  # PINs aside
        return [dict(r._mapping) for r in rows.all()]


async def test_hardening_8_a_couples_sms_go_only_to_the_verified_number(
    client: AsyncTestClient[Litestar], services: Services, clock: FixedClock
) -> None:
    """Stops texting numbers typed into a booking form (the second person's) nobody verified."""
    pairs = (await services.inventory.offers(BIELEFELD, "BNT", 2, limit=5000)).offers
    pair = next(o for o in pairs if (local_day(o.appointments[0].starts_at) - T0.date()).days >= 2)
    token = await token_for(services, VERIFIED)
    couple = [person(1, phone=TYPED_FIRST), person(2, phone=TYPED_SECOND, email="b@example.org")]
    booked = await client.post(
        "/api/v1/bookings",
        json={"persons": couple, "slot_ids": pair.slot_ids},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert booked.status_code == 201, booked.text
    code = booked.json()["code"]
    assert [p["phone"] for p in booked.json()["persons"]] == [TYPED_FIRST, TYPED_SECOND]

    clock.set(day_before(min(a.starts_at for a in pair.appointments), 9))
    assert await services.relay.send_reminders() == 2  # one SMS per person, both to VERIFIED
    await services.booking.cancel(code, "1939-05-01")

    sms = [r for r in await queued(services) if r["channel"] == "sms"]
    assert {r["recipient"] for r in sms} == {VERIFIED}
    reminders = [r for r in sms if str(r["message_id"]).startswith("rem-")]
    assert len(reminders) == 2 and {"Mustermannb" in str(r["body"]) for r in reminders} == {
        True,
        False,
    }, "the second person's reminder names them and goes to the verified number"
    assert [r["recipient"] for r in sms if "abgesagt" in str(r["body"])] == [VERIFIED]


async def test_hardening_8_an_unconfirmed_address_gets_its_booking_but_no_reminder(
    services: Services, clock: FixedClock
) -> None:
    """Stops day-before reminders (and any message beyond its own booking's) to e-mail
    addresses their owners never confirmed."""
    offer = await offer_from(services, days_ahead=2)
    claims = services.verification.read_token(f"Bearer {await token_for(services, VERIFIED)}")
    view = await services.booking.book(claims, [person(1)], offer.slot_ids)

    clock.set(day_before(view.appointments[0].starts_at, 9))
    assert await services.relay.send_reminders() == 1

    mails = [r for r in await queued(services) if r["channel"] == "email"]
    assert [r["recipient"] for r in mails] == ["erika@example.org"]
    assert "Ihre Impftermine" in str(mails[0]["subject"]), "only the booking's confirmation"
    reminders = [r for r in await queued(services) if str(r["message_id"]).startswith("rem-")]
    assert [(r["channel"], r["recipient"]) for r in reminders] == [("sms", VERIFIED)]
