"""The door ticket from booking to mailbox, on SQLite and PostgreSQL (the PostgreSQL booking
path writes its outbox rows in one statement of its own): the booking's transaction queues
the signed ticket with each e-mail, the relay draws it into the mail sent to a real local SMTP
server, and what arrives scans back to the booking's code under the deployment's key."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from kontingent.app import Services
from kontingent.checkin.model import read_ticket
from tests.integration.notifications.conftest import MakeRelay, rows
from tests.integration.notifications.servers import SmtpSink
from tests.support import BIELEFELD, claims_for, person, phone


async def test_the_confirmation_mail_arrives_with_a_qr_code_that_scans_to_the_booking(
    services: Services, smtp: SmtpSink, make_relay: MakeRelay
) -> None:
    secret = services.settings.secret_key
    claims = await claims_for(services, phone(31))
    offer = (await services.inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    view = await services.booking.book(claims, [person(email="erika@web.test")], offer.slot_ids)
    queued = {r["channel"]: r["qr"] for r in await rows(services)}
    assert queued["sms"] is None and read_ticket(secret, queued["email"]) == view.code

    assert (await make_relay(smtp_url=smtp.url).run_channel("email")).sent == 1

    [received] = smtp.accepted
    html = received.get_body(("html",))
    assert html is not None and f'alt="QR-Code zum Buchungscode {view.code}"' in html.get_content()
    assert received["Content-Language"] == "de"
    [image] = [p for p in received.walk() if p.get_content_type() == "image/png"]
    assert f'src="cid:{image["Content-ID"].strip("<>")}"' in html.get_content()
    picture = Image.open(io.BytesIO(image.get_content()))
    [scanned] = zxingcpp.read_barcodes(picture)
    assert read_ticket(secret, scanned.text) == view.code


async def test_a_rebooking_confirms_with_the_same_code_and_its_ticket(services: Services) -> None:
    secret = services.settings.secret_key
    claims = await claims_for(services, phone(32))
    offers = (await services.inventory.offers(BIELEFELD, "BNT", limit=2)).offers
    view = await services.booking.book(
        claims, [person(1, email="max@web.test")], offers[0].slot_ids
    )
    await services.booking.rebook(view.code, "1939-05-01", offers[1].slot_ids)
    tickets = [r["qr"] for r in await rows(services) if r["qr"] is not None]
    assert len(tickets) == 2  # the booking's e-mail and the rebooking's, one address each
    assert {read_ticket(secret, t) for t in tickets} == {view.code}
