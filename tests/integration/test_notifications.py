"""The outbox relay into the dev mailbox, and the dev mailbox over HTTP, on SQLite and PostgreSQL.

What these tests hold the service to: every queued message reaches the mailbox once, even when
a relay delivers it again (a crash between delivery and marking it sent), in the order it was
queued (a resent PIN comes after the one it replaces); the dev mailbox is served in demo mode
only, and answers JSON 404 otherwise.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import quote

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.notifications import repository as repo
from kontingent.notifications.messages import pin_sms
from kontingent.schema import dev_mailbox, outbox
from tests.support import BIELEFELD, claims_for, error_of, person, phone


async def queue_a_booking(services: Services) -> None:
    """A PIN SMS, then a booking's SMS and e-mail: three messages in the outbox."""
    claims = await claims_for(services, phone(0))
    offer = (await services.inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    await services.booking.book(claims, [person(0)], offer.slot_ids)


async def message_ids(services: Services) -> tuple[list[str], list[str], list[bool]]:
    """(outbox message ids, mailbox message ids, outbox rows marked sent)."""
    async with services.db.read() as conn:
        queued = (await conn.execute(select(outbox.c.message_id, outbox.c.sent_at))).all()
        boxed = (await conn.execute(select(dev_mailbox.c.message_id))).scalars().all()
    return sorted(r[0] for r in queued), sorted(boxed), [r[1] is not None for r in queued]


async def test_relay_delivers_every_message_once(services: Services) -> None:
    await queue_a_booking(services)  # claims_for already relayed the PIN
    queued, boxed, sent = await message_ids(services)
    assert len(queued) == 3 and len(boxed) == 1 and sent.count(False) == 2

    assert await services.relay.run_once() == 2
    queued, boxed, sent = await message_ids(services)
    assert boxed == queued and all(sent)

    assert await services.relay.run_once() == 0  # nothing is sent twice
    assert (await message_ids(services))[1] == boxed


async def test_a_message_delivered_again_is_kept_once(services: Services) -> None:
    await queue_a_booking(services)
    await services.relay.run_once()
    # A relay that died after its transport accepted, before it recorded the delivery:
    async with services.db.write() as conn:
        await conn.execute(update(outbox).values(sent_at=None, available_at=services.clock.now()))
    assert await services.relay.run_once() == 3  # delivered again (at least once) ...
    queued, boxed, _ = await message_ids(services)
    assert boxed == queued  # ... but the mailbox drops the duplicates by message id


async def test_the_dev_mailbox_lists_a_resent_pin_after_the_one_it_replaces(
    services: Services,
) -> None:
    pins = [pin_sms(phone(1), f"{i:06d}", 30) for i in range(8)]
    for pin in pins:  # each resend queues a new one while the older ones still wait
        await services.db.run_write(
            lambda conn, pin=pin: repo.enqueue(
                conn, [pin], services.clock.now(), services.booking.cap
            )
        )
    assert await services.relay.run_once() == 8
    async with services.db.read() as conn:
        newest_first = [m["body"] for m in await repo.mailbox(conn, phone(1))]
    assert newest_first == [p.body for p in reversed(pins)]


async def test_dev_mailbox_lists_messages_per_recipient(
    services: Services, client: AsyncTestClient[Litestar]
) -> None:
    await queue_a_booking(services)
    await services.relay.run_once()
    response = await client.get(f"/api/v1/dev/messages?to={quote(phone(0))}")
    assert response.status_code == 200
    sms = response.json()
    assert [m["channel"] for m in sms] == ["sms", "sms"]  # the confirmation, then the PIN
    assert {m["to"] for m in sms} == {phone(0)}
    assert "Impftermin gebucht" in sms[0]["body"] and "PIN" in sms[1]["body"]
    assert sms[0]["sent_at"].endswith(("+01:00", "+02:00"))  # Berlin, with offset
    emails = (await client.get("/api/v1/dev/messages?to=erika@example.org")).json()
    assert [(m["channel"], m["to"]) for m in emails] == [("email", "erika@example.org")]
    assert emails[0]["subject"]
    nobody = await client.get("/api/v1/dev/messages?to=%2B4917099999999")
    assert nobody.status_code == 200 and nobody.json() == []


async def test_dev_mailbox_is_not_served_outside_demo_mode(
    settings: Settings, clock: FixedClock
) -> None:
    app = create_app(dataclasses.replace(settings, demo=False), clock)
    async with AsyncTestClient(app) as client:
        response = await client.get(f"/api/v1/dev/messages?to={quote(phone(0))}")
        error_of(response, 404, "not_found")
        assert (await client.get("/api/v1/centres")).status_code == 200  # the rest is served
