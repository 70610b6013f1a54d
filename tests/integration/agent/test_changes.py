"""Cancelling and rebooking a caller's booking at the console: each asks first on a page of
its own, acts on the POST only, is audited by the use case, and is refused to other roles
and to a form without its CSRF token."""

from __future__ import annotations

import re

from sqlalchemy import select

from kontingent.app import Services
from kontingent.schema import bookings
from kontingent.staff.model import Role
from tests.integration.agent.conftest import Browser, Client, audit_rows, web_booking
from tests.integration.api.conftest import GetToken


async def test_cancel_asks_first_then_cancels_and_is_audited(
    agent: Browser, client: Client, svc: Services, get_token: GetToken
) -> None:
    code = (await web_booking(client, get_token, 0))["code"]
    screen = await agent.open(f"/agent/bookings/{code}")
    assert f'href="/agent/bookings/{code}/cancel"' in screen.text
    ask = await agent.open(f"/agent/bookings/{code}/cancel")
    assert "Wirklich stornieren?" in ask.text and "Ja, stornieren" in ask.text
    assert await audit_rows(svc, "booking.cancel") == []  # asking changes nothing
    done = await agent.submit(f"/agent/bookings/{code}/cancel", {})
    assert "Die Buchung ist storniert" in done.text and "status--cancelled" in done.text
    assert f"/agent/bookings/{code}/cancel" not in done.text  # no second cancel offered
    assert await audit_rows(svc, "booking.cancel") == [("agent.anna", code, "browser")]


async def test_a_cancel_without_csrf_or_by_centre_staff_changes_nothing(
    agent: Browser, client: Client, svc: Services, get_token: GetToken
) -> None:
    code = (await web_booking(client, get_token, 0))["code"]
    await agent.open(f"/agent/bookings/{code}/cancel")
    forged = await agent.post(f"/agent/bookings/{code}/cancel", {}, csrf=None)
    assert forged.status_code == 303
    staff = Browser(client)  # the same browser, now logged in as centre staff
    await staff.log_in(Role.centre_staff)
    await staff.open("/staff")
    assert (await staff.post(f"/agent/bookings/{code}/cancel", {})).status_code == 403
    assert await audit_rows(svc, "booking.cancel") == []
    async with svc.db.read() as conn:
        status = await conn.execute(select(bookings.c.status).where(bookings.c.code == code))
        assert status.scalar_one() == "booked"


async def test_rebook_shows_offers_asks_then_moves_the_booking(
    agent: Browser, client: Client, svc: Services, get_token: GetToken
) -> None:
    booking = await web_booking(client, get_token, 0)
    code = booking["code"]
    offers = await agent.open(f"/agent/bookings/{code}/rebook")
    assert offers.status_code == 200 and code in offers.text
    pattern = rf'href="(/agent/bookings/{code}/rebook/confirm\?offer=([\d-]+))'
    link = re.findall(pattern, offers.text)
    assert link, offers.text[-2000:]
    held = sorted(a["slot_id"] for a in booking["appointments"])
    keys = [sorted(map(int, key.split("-"))) for _, key in link]
    assert held not in keys  # not the booking itself
    # Keeping the first dose and moving the second is a choice (its seat comes back).
    assert [k for k in keys if k[0] == held[0] and k[1] != held[1]], keys
    link = [url for url, _ in link]
    ask = await agent.open(link[-1].replace("&amp;", "&"))
    assert "Wirklich umbuchen?" in ask.text and "Ja, umbuchen" in ask.text
    offer = re.search(r'name="offer" value="([\d-]+)"', ask.text)
    assert offer
    done = await agent.submit(f"/agent/bookings/{code}/rebook/confirm", {"offer": offer.group(1)})
    assert "Umgebucht" in done.text
    assert await audit_rows(svc, "booking.rebook") == [("agent.anna", code, "browser")]
