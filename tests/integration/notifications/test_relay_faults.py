"""The relay through faults (issue 12, items 6 and 7), against the real local SMS gateway stub,
on SQLite and PostgreSQL, with the clock injected.

Proves: after a gateway outage the waiting messages go out on the pass after the first
delivery that works again (PINs first), not when their grown backoff ends; while the gateway
is down the relay sends one probe per interval; a probe taken ahead of a message's backoff
leaves that message's schedule and tries as they were; a relay cancelled in the middle of a
batch has recorded every message the gateway answered, so a new relay repeats at most the
messages that were in flight; a round through a slow gateway stops taking messages at half
its lease, before another relay could claim them again.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

from kontingent.app import Services
from kontingent.clock import FixedClock
from kontingent.notifications import repository as repo
from kontingent.notifications.messages import pin_sms
from kontingent.notifications.model import Message
from kontingent.notifications.service import LEASE
from tests.integration.notifications.conftest import MakeRelay, queue, rows, start_worker
from tests.integration.notifications.servers import SmsGateway
from tests.support import phone

PROBE = timedelta(seconds=2)


def confirmation(i: int) -> Message:
    return Message("sms", phone(i), f"Impftermin gebucht. Code {i:012d}.")


async def test_faults_6_waiting_pins_go_out_on_the_pass_after_the_gateway_recovers(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    """Stops PINs staying late after an SMS gateway outage because their backoff kept growing."""
    relay = make_relay(sms_url=gateway.url, batch=5)
    pins = [pin_sms(phone(i), f"{i:06d}", 30) for i in range(5)]
    await queue(services, [confirmation(i) for i in range(10, 15)] + pins)
    gateway.fail_next = 10**6

    for _ in range(60):  # a two-minute outage, a relay pass every two seconds
        await relay.run_once()
        clock.advance(PROBE)
    tries_while_down = len(gateway.attempts)
    waiting = [r for r in await rows(services) if r["sent_at"] is None]
    assert len(waiting) == 10 and all(r["parked_at"] is None for r in waiting)
    assert max(r["available_at"] for r in waiting) > clock.now() + timedelta(seconds=10)

    gateway.fail_next = 0  # the gateway is back
    assert await relay.run_once() == 1  # the probe goes through ...
    assert await relay.run_once() == 5  # ... and the next pass, at once, takes the PINs first
    assert {s.text for s in gateway.accepted} >= {p.body for p in pins}
    assert await relay.run_once() == 4
    assert all(r["sent_at"] is not None for r in await rows(services))
    first_pass = 5  # the batch went out before three failures in a row opened the breaker
    assert tries_while_down <= first_pass + 60, "one probe per interval while down"


async def test_a_probe_goes_ahead_of_a_message_backoff_and_keeps_its_schedule(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    relay = make_relay(sms_url=gateway.url)
    await queue(services, [confirmation(1)])
    gateway.fail_next = 10**6
    for _ in range(3):  # three failures in a row, each after its backoff: the breaker opens
        [row] = await rows(services)
        clock.advance(max(row["available_at"] - clock.now(), timedelta(0)))
        await relay.run_once()
    [waiting] = await rows(services)
    assert relay.breakers["sms"].is_open and waiting["attempts"] == 3
    assert waiting["available_at"] - clock.now() > PROBE  # its own backoff: 4-8 s

    clock.advance(PROBE)
    assert await relay.run_once() == 0  # the probe took it early and failed ...
    [probed] = await rows(services)
    assert len(gateway.attempts) == 4
    assert (probed["attempts"], probed["available_at"]) == (3, waiting["available_at"])
    assert "503" in probed["last_error"]  # ... keeping its schedule and its tries

    gateway.fail_next = 0
    clock.advance(PROBE)
    assert await relay.run_once() == 1
    assert not relay.breakers["sms"].is_open


async def test_a_recovery_makes_waiting_messages_due_but_not_those_another_relay_sends(
    services: Services, clock: FixedClock
) -> None:
    await queue(services, [confirmation(i) for i in range(3)])
    now = clock.now()

    async def work(conn: Any) -> int:
        failed, _sending = await repo.claim(conn, "sms", 2, now, LEASE)
        later = now + timedelta(minutes=5)
        await repo.mark_failed(conn, [repo.Failed(failed.id, "503", later)], now)
        return await repo.retry_now(conn, "sms", now)

    assert await services.db.run_write(work) == 1
    waiting, leased, fresh = await rows(services)
    assert waiting["available_at"] == now and waiting["last_error"] == "503"
    assert leased["available_at"] == now + LEASE  # another relay is sending it: left alone
    assert fresh["available_at"] == now


async def test_faults_7_a_relay_cancelled_mid_batch_repeats_at_most_those_in_flight(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    """Stops a killed relay sending its whole claimed batch again (48 SMS twice in the drill)."""
    relay = make_relay(sms_url=gateway.url)
    in_flight = relay.transports["sms"].connections  # 16 senders at once
    await queue(services, [confirmation(i) for i in range(200)])
    gateway.hold_after = 50  # answers 50, then takes messages but never answers
    task = asyncio.create_task(relay.run_channel("sms"))
    await gateway.wait_held(in_flight)  # every sender waits for an answer
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await relay.aclose()

    recorded = {r["message_id"] for r in await rows(services) if r["sent_at"] is not None}
    answered = {s.message_id for s in gateway.accepted[:50]}
    assert recorded == answered  # every delivery the relay heard of is recorded
    gateway.release()
    clock.advance(LEASE)  # the dead relay's lease runs out
    again = make_relay(sms_url=gateway.url)
    while await again.run_once():
        pass

    ids = [s.message_id for s in gateway.accepted]
    assert len(set(ids)) == 200
    assert len(ids) - 200 <= in_flight  # only those in flight went twice
    assert all(r["sent_at"] is not None for r in await rows(services))


async def test_faults_7_a_killed_worker_repeats_at_most_those_in_flight(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    """Stops `kill -9` of `kontingent worker` sending its whole claimed batch again."""
    await queue(services, [confirmation(i) for i in range(200)])
    gateway.hold_after = 50
    worker = await start_worker(services, gateway)  # the system clock: all 200 are due
    try:
        await gateway.wait_held(16)  # its 16 gateway connections wait for an answer
    finally:
        worker.kill()
        await worker.communicate()

    recorded = {r["message_id"] for r in await rows(services) if r["sent_at"] is not None}
    assert recorded == {s.message_id for s in gateway.accepted[:50]}
    gateway.release()
    clock.set(datetime.now(UTC) + LEASE)  # the killed worker's lease (system clock) ran out
    again = make_relay(sms_url=gateway.url)
    while await again.run_once():
        pass
    ids = [s.message_id for s in gateway.accepted]
    assert len(set(ids)) == 200 and len(ids) - 200 <= 16


async def test_a_slow_round_stops_taking_messages_at_half_its_lease(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    relay = make_relay(sms_url=gateway.url)
    in_flight = relay.transports["sms"].connections
    await queue(services, [confirmation(i) for i in range(40)])
    gateway.hold_after = 0  # the gateway is slow: no answer yet
    task = asyncio.create_task(relay.run_channel("sms"))
    await gateway.wait_held(in_flight)
    clock.advance(LEASE / 2)  # another relay may claim the rest after the lease: stop here
    gateway.release()
    done = await task

    assert (done.sent, done.released) == (in_flight, 40 - in_flight)
    assert len(gateway.accepted) == in_flight
    waiting = [r for r in await rows(services) if r["sent_at"] is None]
    assert len(waiting) == 40 - in_flight
    assert all(r["attempts"] == 0 and r["available_at"] < clock.now() for r in waiting)
