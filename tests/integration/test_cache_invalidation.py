"""Availability caches of two processes kept in step through the real local Redis, in one
test process: two Inventory instances with a listener each on a channel of this test run,
both on the same seeded database (SQLite and PostgreSQL), caches with a 10-minute TTL so that
only a message (or a release minute) can change what they show.

Waiting is polling with a deadline (a message crosses Redis in about a millisecond).
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from litestar.testing import AsyncTestClient

from kontingent.app import Services, build_services, create_app
from kontingent.booking.service import Booking
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.inventory.invalidation import RedisInvalidation, running
from kontingent.inventory.service import Inventory
from kontingent.jobs.service import scheduler_for
from tests.integration.test_phone_share import first_slot, hold
from tests.support import (
    BIELEFELD,
    REDIS_URL,
    T0,
    claims_for,
    person,
    phone,
    set_free,
    unreleased,
)

DEAD_REDIS_URL = "redis://127.0.0.1:9/0"
TTL_S = 600.0
DEADLINE_S = 10.0

pytestmark = pytest.mark.redis


async def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE_S} s: {what}"
        await asyncio.sleep(0.005)  # polling with a deadline, not waiting for a guess


@dataclass
class Process:
    inventory: Inventory
    booking: Booking
    listener: RedisInvalidation
    task: asyncio.Task[None]


@pytest.fixture
async def pair(services: Services) -> AsyncIterator[tuple[Process, Process]]:
    channel = f"kt_test_slots_{secrets.token_hex(4)}"
    made = []
    for _ in range(2):
        inventory = Inventory(services.db, services.clock, ttl_s=TTL_S)
        listener = RedisInvalidation.from_url(REDIS_URL, inventory, channel)
        task = asyncio.create_task(listener.run())
        made.append(
            Process(
                inventory,
                Booking(services.db, services.clock, inventory, services.settings.secret_key),
                listener,
                task,
            )
        )
    try:
        await until(lambda: all(p.inventory.invalidation_connected for p in made), "subscribed")
        yield made[0], made[1]
    finally:
        for p in made:
            p.task.cancel()
            await asyncio.gather(p.task, return_exceptions=True)
            await p.listener.aclose()


async def _shown(inventory: Inventory) -> set[int]:
    view = await inventory.offers(BIELEFELD, "BNT", limit=50)
    return {s for o in view.offers for s in o.slot_ids}


async def test_a_booking_elsewhere_takes_the_seat_out_of_this_cache_without_reading(
    services: Services, pair: tuple[Process, Process]
) -> None:
    a, b = pair
    first = (await b.inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    await set_free(services.db, 1, *first.slot_ids)
    b.inventory.slots_changed(BIELEFELD, "BNT")  # B reads again: one seat left in each
    assert set(first.slot_ids) <= await _shown(b.inventory)
    reads = b.inventory.cache_stats().misses

    claims = await claims_for(services, phone(0))
    await a.booking.book(claims, [person(0)], first.slot_ids)

    await until(lambda: b.inventory.remote_changes > 0, "B hears of A's booking")
    assert not set(first.slot_ids) & await _shown(b.inventory)
    assert b.inventory.cache_stats().misses == reads, "applied from the message, not re-read"
    await until(lambda: a.listener.echoes >= 1, "A's own message comes back to A")
    assert a.inventory.remote_changes == 1, "A applied B's change only, not its own again"


async def test_a_cancellation_elsewhere_shows_the_seats_again(
    services: Services, pair: tuple[Process, Process]
) -> None:
    a, b = pair
    first = (await a.inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    await set_free(services.db, 1, *first.slot_ids)
    a.inventory.slots_changed(BIELEFELD, "BNT")
    claims = await claims_for(services, phone(1))
    booked = await a.booking.book(claims, [person(1)], first.slot_ids)
    await until(lambda: b.inventory.remote_changes >= 2, "B hears of both changes")
    assert not set(first.slot_ids) & await _shown(b.inventory)
    heard = b.inventory.remote_changes

    await a.booking.cancel(booked.code, person(1)["birth_date"])
    await until(lambda: b.inventory.remote_changes > heard, "B hears of the cancellation")
    assert set(first.slot_ids) <= await _shown(b.inventory)


async def test_after_a_lost_connection_the_listener_comes_back_and_forgets_what_it_held(
    pair: tuple[Process, Process],
) -> None:
    _, b = pair
    await _shown(b.inventory)
    assert b.inventory.cache_stats().readings >= 1
    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        name = f"kontingent-invalidation-{b.listener.origin}"
        clients = [c for c in await admin.client_list() if c["name"] == name]
        assert clients, "the listener's connection is named"
        for c in clients:  # only this listener's connections: other runs share this Redis
            await admin.client_kill_filter(_id=c["id"])
    finally:
        await admin.aclose()
    await until(lambda: b.listener.subscriptions >= 2, "the listener subscribes again")
    assert b.inventory.invalidation_connected
    assert b.inventory.cache_stats().readings == 0, "changes in the gap may have been missed"


async def test_without_redis_the_flag_says_so_and_the_cache_still_serves(
    services: Services,
) -> None:
    inventory = Inventory(services.db, services.clock, ttl_s=TTL_S)
    listener = RedisInvalidation.from_url(DEAD_REDIS_URL, inventory, "kt_test_dead")
    task = asyncio.create_task(listener.run())
    try:
        inventory.seats_taken(BIELEFELD, "BNT", {1: 1})  # queued, then dropped: nobody hears
        await until(lambda: listener.dropped >= 1, "the publisher gave up on the message")
        assert inventory.invalidation_enabled and not inventory.invalidation_connected
        assert await _shown(inventory), "offers are served from the database and the TTL"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await listener.aclose()


async def test_a_release_minute_passing_reads_again_despite_a_long_ttl(
    services: Services, clock: FixedClock
) -> None:
    inventory = Inventory(services.db, services.clock, ttl_s=TTL_S)
    release = T0 + timedelta(minutes=30)
    async with unreleased(services.db, BIELEFELD, "BNT", release):
        before = await inventory.offers(BIELEFELD, "BNT")
        assert before.offers == [] and before.next_release_at == release
        reads = inventory.cache_stats().misses
        clock.advance(timedelta(minutes=29))
        assert (await inventory.offers(BIELEFELD, "BNT")).offers == []
        assert inventory.cache_stats().misses == reads, "nothing read again before the minute"
        clock.advance(timedelta(minutes=1))
        assert (await inventory.offers(BIELEFELD, "BNT")).offers, "released at this minute"
        assert inventory.cache_stats().misses > reads


async def test_shutdown_ends_even_when_the_publisher_does_not_stop(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A publisher that outlives its cancellation (as one was seen to on Python 3.11, parked
    on its queue) costs the shutdown at most STOP_WAIT_S, not the rest of the process's life."""
    monkeypatch.setattr("kontingent.inventory.invalidation.STOP_WAIT_S", 0.2)
    parked = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            parked.set()
            await asyncio.Event().wait()  # the cancellation is lost: parked for good

    inventory = Inventory(services.db, services.clock, ttl_s=TTL_S)
    listener = RedisInvalidation.from_url(REDIS_URL, inventory, f"kt_test_{secrets.token_hex(4)}")
    monkeypatch.setattr(listener, "_publish_forever", stubborn)
    task = asyncio.create_task(listener.run())
    try:
        await until(lambda: inventory.invalidation_connected, "subscribed")
        task.cancel()
        started = time.monotonic()
        await asyncio.wait({task}, timeout=DEADLINE_S)
        assert task.done(), "the listener's shutdown waited on the publisher for good"
        assert parked.is_set() and time.monotonic() - started < DEADLINE_S
        assert not inventory.invalidation_connected
    finally:
        await listener.aclose()


@pytest.mark.parametrize("turns", [0, 1, 2, 3, 5, 8])
async def test_a_change_announced_just_before_a_stop_still_reaches_the_others(
    services: Services, pair: tuple[Process, Process], turns: int
) -> None:
    """`running` ends (as `kontingent worker` does after its due jobs) while the publisher
    may be sending the last change: the stop waits for that send instead of cancelling it
    (a flaky test of a worker's release showed the others never heard of it)."""
    _, b = pair
    inventory = Inventory(services.db, services.clock, ttl_s=TTL_S)
    worker = RedisInvalidation.from_url(REDIS_URL, inventory, b.listener.channel)
    async with running(worker):
        await until(lambda: inventory.invalidation_connected, "the worker listens")
        inventory.slots_changed(BIELEFELD, "BNT")
        for _ in range(turns):  # the stop comes at different points of the send
            await asyncio.sleep(0)
    await until(lambda: b.inventory.remote_changes > 0, "the other process hears of it")
    assert worker.published == 1


async def test_a_centre_changed_in_one_process_is_read_anew_in_the_other(
    pair: tuple[Process, Process],
) -> None:
    """A closed day (admin/centres_closures.py) lives in the catalogue: its announcement makes
    the other process drop the catalogue it holds at once, not only at its next check of the
    catalogue's version or after the catalogue's TTL."""
    here, there = pair
    held = await there.inventory.catalogue()
    assert await there.inventory.catalogue() is held  # kept: only a change drops it
    received = there.listener.subscriptions, there.inventory.remote_changes
    here.inventory.catalogue_changed(version=10**6)  # the version the change made
    dropped = lambda: there.inventory.catalogue_cache.last("catalogue") is None  # noqa: E731
    await until(dropped, "catalogue dropped")
    # Heard with its version: the other's next check of the version reads no news in it.
    assert there.inventory.catalogue_watch.known == 10**6
    assert await there.inventory.catalogue() is not held
    subscriptions, changes = received
    # Heard once as a change of another process, on the same subscription.
    assert (there.listener.subscriptions, there.inventory.remote_changes) == (
        subscriptions,
        changes + 1,
    )


async def public_slots(client: AsyncTestClient[Any], url: str) -> set[int]:
    offers = (await client.get(url)).json()["offers"]
    return {a["slot_id"] for o in offers for a in o["appointments"]}


async def test_a_separate_worker_releasing_phone_seats_is_heard_by_the_web_at_once(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    """`kontingent worker` as it runs: its own services, publisher and listener (`running`)
    around the scheduler's due jobs; a web app on the same Redis, its readings kept 10
    minutes, shows a slot whose only free seat was the hotline's once the job released it."""
    shared = dataclasses.replace(
        settings, redis_url=REDIS_URL, redis_prefix=f"kt_test_{secrets.token_hex(4)}:",
        availability_ttl_s=TTL_S, availability_settled_ttl_s=TTL_S,
    )  # fmt: skip
    slot_id, capacity = await first_slot(services)
    await hold(services, slot_id, booked=capacity - 1, reserved=1)  # starts within the lead
    app = create_app(shared, clock)
    web: Services = app.state.services
    url = f"/api/v1/centres/{BIELEFELD}/offers?vaccine=JNJ&limit=50"
    async with AsyncTestClient(app) as client:
        await until(lambda: web.inventory.invalidation_connected, "the web listens")
        assert slot_id not in await public_slots(client, url)

        worker = build_services(shared, clock)
        try:
            async with running(worker.invalidation):
                await until(lambda: worker.inventory.invalidation_connected, "the worker too")
                ran = await scheduler_for(worker).run_due()
                assert ran.get("phone_seats_released") == 1, ran
        finally:
            await worker.db.dispose()
        await until(lambda: web.inventory.remote_changes > 0, "the web hears of the release")
        assert slot_id in await public_slots(client, url)
