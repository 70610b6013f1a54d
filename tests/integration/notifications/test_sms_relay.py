"""The relay against a real local HTTP SMS gateway, on SQLite and PostgreSQL.

Proves: delivery with the message id as a header, retry with backoff after the gateway fails,
parking after repeated or permanent failure (and requeueing), PINs first, expired PINs parked,
two relays at once never sending a message twice, and a booking that succeeds while the
gateway is down.
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from kontingent.app import Services, build_services
from kontingent.clock import FixedClock
from kontingent.notifications import repository as repo
from kontingent.notifications.messages import pin_sms
from kontingent.notifications.model import Message, RetryPolicy
from kontingent.notifications.service import Relay
from kontingent.notifications.transports import HttpSmsGateway
from tests.integration.notifications.conftest import MakeRelay, queue, rows
from tests.integration.notifications.servers import SmsGateway
from tests.support import BIELEFELD, person, phone


def confirmation(i: int) -> Message:
    return Message("sms", phone(i), f"Impftermin gebucht. Code {i:012d}.")


async def test_sms_reaches_the_gateway_once_with_its_message_id(
    services: Services, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    relay = make_relay(sms_url=gateway.url)
    await queue(services, [pin_sms(phone(1), "123456", 30), confirmation(2)])

    assert await relay.run_once() == 2
    assert await relay.run_once() == 0

    stored = {r["message_id"]: r for r in await rows(services)}
    assert sorted(s.message_id for s in gateway.accepted) == sorted(stored)
    for sms in gateway.accepted:
        assert sms.idempotency_key == sms.message_id
        assert sms.to == stored[sms.message_id]["recipient"]
        assert sms.text == stored[sms.message_id]["body"]
        assert stored[sms.message_id]["sent_at"] == services.clock.now()
    async with services.db.read() as conn:
        assert await repo.mailbox(conn, None) == []  # the gateway got them, not the dev mailbox


async def test_a_failed_sms_is_retried_after_its_backoff(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    relay = make_relay(sms_url=gateway.url)
    gateway.fail_next = 1
    await queue(services, [confirmation(1)])

    assert await relay.run_once() == 0
    [row] = await rows(services)
    assert row["attempts"] == 1 and "503" in row["last_error"]
    wait = row["available_at"] - clock.now()
    assert timedelta(seconds=1) <= wait <= timedelta(seconds=2)  # first backoff: 1–2 s

    assert await relay.run_once() == 0  # not before its time
    assert len(gateway.attempts) == 1
    clock.advance(wait)
    assert await relay.run_once() == 1
    assert [s.message_id for s in gateway.attempts] == [row["message_id"]] * 2
    assert len(gateway.accepted) == 1


async def test_an_sms_that_keeps_failing_is_parked_visible_and_can_be_requeued(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    policy = RetryPolicy(max_attempts=3, base_s=1, max_s=10)
    relay = make_relay(sms_url=gateway.url, policy=policy)
    gateway.fail_next = 1000
    await queue(services, [confirmation(1)])

    for _ in range(3):
        assert await relay.run_once() == 0
        clock.advance(timedelta(seconds=policy.max_s))
    [row] = await rows(services)
    assert row["parked_at"] is not None and row["sent_at"] is None
    assert row["attempts"] == 3 and "503" in row["last_error"]
    assert len(gateway.attempts) == 3
    assert await relay.run_once() == 0  # parked stays parked
    async with services.db.read() as conn:
        [parked] = await repo.parked(conn)
        backlog = {b.channel: b for b in await repo.backlog(conn, clock.now())}
    assert parked.message_id == row["message_id"] and "503" in parked.last_error
    assert backlog["sms"].parked == 1 and backlog["sms"].pending == 0

    gateway.fail_next = 0
    assert await relay.requeue_parked() == 1
    clock.advance(relay.breakers["sms"].probe_every)  # three failures in a row opened it
    assert await relay.run_once() == 1
    assert [s.message_id for s in gateway.accepted] == [row["message_id"]]


async def test_a_permanently_refused_sms_is_parked_at_once_and_others_go(
    services: Services, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    relay = make_relay(sms_url=gateway.url)
    gateway.refuse = {phone(1)}
    await queue(services, [confirmation(1), confirmation(2)])

    assert await relay.run_once() == 1
    refused, delivered = await rows(services)
    assert refused["parked_at"] is not None and "400" in refused["last_error"]
    assert refused["attempts"] == 1
    assert delivered["sent_at"] is not None


async def test_pins_go_before_confirmations_queued_earlier(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    relay = make_relay(sms_url=gateway.url, batch=2)
    await queue(services, [confirmation(i) for i in range(5)])
    clock.advance(timedelta(seconds=1))
    await queue(services, [pin_sms(phone(9), "654321", 30)])

    done = await relay.run_channel("sms")
    assert done.sent == 2
    assert "654321" in " ".join(s.text for s in gateway.accepted)


async def test_a_pin_past_its_validity_is_parked_not_sent(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    relay = make_relay(sms_url=gateway.url)
    await queue(services, [pin_sms(phone(1), "123456", 30)])
    clock.advance(timedelta(minutes=30))

    assert await relay.run_once() == 0
    assert gateway.attempts == []
    [row] = await rows(services)
    assert row["parked_at"] is not None and row["last_error"].startswith("expired")


async def test_two_relays_at_once_send_each_message_exactly_once(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    url = gateway.url
    other = build_services(services.settings, clock)  # a second process: its own engine
    try:
        relays = [
            make_relay(sms_url=url, batch=25),
            make_relay(sms_url=url, batch=25, services=other),
        ]
        await queue(services, [confirmation(i) for i in range(400)])
        claimed = await asyncio.gather(*(drain(r) for r in relays))
    finally:
        await other.db.dispose()

    ids = [s.message_id for s in gateway.attempts]
    assert len(ids) == 400 and len(set(ids)) == 400
    assert all(r["sent_at"] is not None for r in await rows(services))
    assert all(n > 0 for n in claimed), "both relays took part"


async def drain(relay: Relay) -> int:
    """Run rounds until a round finds nothing; the number of messages this relay claimed."""
    total = 0
    while (done := await relay.run_channel("sms")).claimed:
        total += done.claimed
        await asyncio.sleep(0)  # let the other relay's round interleave with this one
    return total


async def test_a_booking_succeeds_while_the_gateway_is_down_and_is_confirmed_later(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    relay = make_relay(sms_url=gateway.url)
    gateway.fail_next = 1000
    sent = await services.verification.send_pin(phone(1))
    await relay.run_once()  # the gateway saw the PIN once, then failed it
    pin = re.search(r"\b(\d{6})\b", gateway.attempts[0].text)
    assert pin is not None
    token = await services.verification.check_pin(sent.verification_id, pin.group(1))
    claims = services.verification.read_token(f"Bearer {token}")
    offer = (await services.inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]

    view = await services.booking.book(claims, [person()], offer.slot_ids)

    assert view.status == "booked"
    assert (await relay.run_channel("sms")).sent == 0  # the confirmation could not go out yet
    gateway.fail_next = 0
    clock.advance(timedelta(minutes=5))
    assert (await relay.run_channel("sms")).sent == 2  # the PIN (still valid) and the booking
    assert any(view.code in s.text for s in gateway.accepted)


# --- the gateway client alone ---------------------------------------------------------------


async def test_the_gateway_client_sends_each_sms_once_and_classes_the_answers(
    gateway: SmsGateway,
) -> None:
    gateway.refuse = {phone(3)}
    gateway.fail_next = 1  # the first request that arrives gets 503
    client = HttpSmsGateway(gateway.url, connections=1)
    messages = [Message("sms", phone(i), f"Text {i}", message_id=f"m{i}") for i in (1, 2, 3)]
    try:
        outcomes = [await client.send(m) for m in messages]  # in turn: the 503 is the first's
    finally:
        await client.aclose()
    first, second, third = outcomes
    assert first is not None and not first.permanent and "503" in first.reason
    assert second is None
    assert third is not None and third.permanent and "400" in third.reason
    assert [(s.to, s.text, s.message_id, s.idempotency_key) for s in gateway.accepted] == [
        (phone(2), "Text 2", "m2", "m2")
    ]
    assert gateway.connections == 1  # kept alive across the three


async def test_an_unreachable_gateway_fails_each_sms_for_another_try() -> None:
    client = HttpSmsGateway("http://127.0.0.1:1/sms")  # nothing listens there
    try:
        outcomes = [await client.send(Message("sms", phone(1), "x")) for _ in range(3)]
    finally:
        await client.aclose()
    assert all(o is not None and not o.permanent and "Connect" in o.reason for o in outcomes)


async def test_a_gateway_that_does_not_answer_times_out_for_another_try() -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # reads nothing, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = HttpSmsGateway(f"http://127.0.0.1:{port}/sms", timeout_s=0.3)
    try:
        outcome = await client.send(Message("sms", phone(1), "x"))
    finally:
        await client.aclose()
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert outcome is not None and not outcome.permanent and "Timeout" in outcome.reason
