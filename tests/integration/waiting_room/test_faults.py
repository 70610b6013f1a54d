"""Issue 12, items 2 to 4: the waiting room across Redis restarts and failed bookings.

A restart is either real (a Redis server of the test's own, killed with kill -9 and started
again empty, as a production Redis without persistence comes back) or, on the shared Redis,
every key under the test's own prefix deleted. Nothing sleeps: the clock is moved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services, build_services, create_app
from kontingent.booking import repository as booking_repo
from kontingent.booking.service import Booking
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.errors import NotFound
from kontingent.schema import slots
from kontingent.waiting_room.model import REJOIN_HOLD_S, Mode
from kontingent.waiting_room.service import AdmissionRefused, QueueView, WaitingRoomPaused
from kontingent.waiting_room.store import Restore, Step, WaitingRoomStore
from tests.integration.waiting_room.conftest import DEAD_REDIS_URL, PrivateRedis
from tests.support import (
    BIELEFELD,
    REDIS_URL,
    T0,
    changed_rows,
    delete_redis_prefix,
    error_of,
    person,
    phone,
    read_pin,
)

pytestmark = pytest.mark.redis
T = TypeVar("T")
Client = AsyncTestClient[Litestar]
DEAD_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/test"  # nothing listens there
sqlite_only = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)


@asynccontextmanager
async def _process(settings: Settings, clock: FixedClock) -> AsyncIterator[Services]:
    """The services of one server process."""
    services = build_services(settings, clock)
    try:
        yield services
    finally:
        await services.waiting_room.aclose()
        await services.limits.aclose()
        if services.invalidation is not None:
            await services.invalidation.aclose()
        await services.db.dispose()


async def _once_reachable(clock: FixedClock, ask: Callable[[], Awaitable[T]]) -> T:
    """`ask`, again after the room's pause if the first call met a connection Redis had
    dropped (the client connects anew on the next one)."""
    try:
        return await ask()
    except WaitingRoomPaused:
        clock.advance(timedelta(seconds=2))
        return await ask()


def _room(settings: Settings, **changes: Any) -> Settings:
    room: dict[str, Any] = {
        "waiting_room": True,
        "waiting_room_opens_at": T0.isoformat(),
        "waiting_room_admission_rate": 1.0,
        "waiting_room_admission_ttl_s": 600.0,
    }
    return dataclasses.replace(settings, **(room | changes))


# --- item 2: the room's settings --------------------------------------------------------------


@sqlite_only
async def test_faults_2_an_armed_room_stays_armed_when_redis_restarts_empty(
    settings: Settings, clock: FixedClock, private_redis: PrivateRedis
) -> None:
    """Stops a Redis restart from switching off a room armed with `waiting-room set`."""
    on_redis = dataclasses.replace(settings, redis_url=private_redis.url)  # the room: off
    opens = (T0 + timedelta(hours=1)).timestamp()
    async with _process(on_redis, clock) as first:
        await first.waiting_room.configure(mode=Mode.SCHEDULED, opens_at=opens, rate=5.0)
        with pytest.raises(AdmissionRefused):
            await first.waiting_room.require(None)
        private_redis.restart()  # kill -9, and back without any key

        async with _process(on_redis, clock) as started_after:
            with pytest.raises(AdmissionRefused):
                await started_after.waiting_room.require(None)
            assert started_after.waiting_room.config.opens_at == opens
        for _ in range(3):  # the first process: across its one paused second, and after
            clock.advance(timedelta(seconds=2))
            with pytest.raises(AdmissionRefused):
                await first.waiting_room.require(None)
        stats = await first.waiting_room.stats()
        assert stats.mode == "scheduled" and stats.guarding and not stats.paused
        assert stats.rate == 5.0


@sqlite_only
async def test_faults_2_a_room_that_cannot_read_its_settings_stays_closed(
    settings: Settings, clock: FixedClock, redis_prefix: str
) -> None:
    """Stops a process from letting everyone in when Redis and the database cannot say how
    the room is set (an empty Redis with the database down, or Redis down at its start)."""
    unreadable = dataclasses.replace(
        settings, database_url=DEAD_PG_URL, redis_url=REDIS_URL, redis_prefix=redis_prefix
    )
    async with _process(unreadable, clock) as blind:
        with pytest.raises(AdmissionRefused):
            await blind.waiting_room.require(None)
        with pytest.raises(WaitingRoomPaused):
            await blind.waiting_room.join()
        assert (await blind.waiting_room.stats()).guarding

    readable = dataclasses.replace(settings, redis_url=REDIS_URL, redis_prefix=redis_prefix)
    async with _process(readable, clock) as operator:  # the database is back: arm the room
        await operator.waiting_room.configure(mode=Mode.SCHEDULED, rate=7.0)
    no_redis = dataclasses.replace(readable, redis_url=DEAD_REDIS_URL)
    async with _process(no_redis, clock) as started_without_redis:
        with pytest.raises(AdmissionRefused):
            await started_without_redis.waiting_room.require(None)
        assert started_without_redis.waiting_room.config.rate == 7.0  # from the database


# --- item 3: the queue and the used admissions --------------------------------------------------


@sqlite_only
async def test_faults_3_a_waiting_person_keeps_their_place_when_redis_restarts_empty(
    settings: Settings, clock: FixedClock, private_redis: PrivateRedis
) -> None:
    """Stops a Redis restart from throwing everyone out of the line (404 unknown_ticket)
    after they were told their place is kept."""
    async with _process(_room(settings, redis_url=private_redis.url), clock) as process:
        room = process.waiting_room
        clock.advance(timedelta(seconds=1))
        tickets = []
        for _ in range(26):
            tickets.append((await room.join()).ticket)
            clock.advance(timedelta(milliseconds=10))
        clock.advance(timedelta(seconds=3))
        before = {t: await room.status(t) for t in tickets}
        waiting = [t for t in tickets if before[t].status == "waiting"]
        assert len(waiting) >= 20

        private_redis.kill()
        clock.advance(timedelta(seconds=2))
        with pytest.raises(WaitingRoomPaused) as told:
            await room.status(waiting[-1])
        assert "your place is kept" in told.value.message
        private_redis.start()  # empty
        clock.advance(timedelta(seconds=2))

        async def poll_all() -> dict[str, QueueView]:
            return {t: await _once_reachable(clock, lambda t=t: room.status(t)) for t in waiting}

        try:
            await poll_all()  # everyone asks once: each ticket is back at its score
            after = await poll_all()
        except NotFound as exc:
            pytest.fail(f"a waiting person lost their place: {exc.message}")
        still = [t for t in waiting if after[t].status == "waiting"]
        assert len(still) >= len(waiting) - 10  # a few let in meanwhile, at the rate
        places = [after[t].position for t in still]
        assert places == sorted(places) and len(set(places)) == len(places)  # the same order
        for t in still:
            assert after[t].position <= before[t].position  # nobody put further back
        assert after[still[0]].serving >= before[waiting[0]].serving


@sqlite_only
async def test_faults_3_in_embedded_mode_a_restarted_server_keeps_the_places(
    settings: Settings, clock: FixedClock
) -> None:
    """Stops a restart of the one server process (the queue in its memory) from throwing
    everyone out of the line."""
    clock.advance(timedelta(seconds=1))
    async with _process(_room(settings, waiting_room_admission_rate=0.1), clock) as before:
        tickets = []
        for _ in range(5):
            tickets.append((await before.waiting_room.join()).ticket)
            clock.advance(timedelta(milliseconds=10))
        places = [(await before.waiting_room.status(t)).position for t in tickets]
    assert places == [1, 2, 3, 4, 5]
    async with _process(_room(settings, waiting_room_admission_rate=0.1), clock) as after:
        for t in reversed(tickets):  # each rejoins as it asks, in any order
            await after.waiting_room.status(t)
        assert [(await after.waiting_room.status(t)).position for t in tickets] == places


async def _verified(client: Client, services: Services, admission: str, n: int) -> str:
    """A phone verification made through the room's door: the booking token."""
    headers = {"X-Admission": admission}
    started = await client.post("/api/v1/verifications", json={"phone": phone(n)}, headers=headers)
    assert started.status_code == 201, started.text
    pin = await read_pin(services, phone(n))
    confirm = f"/api/v1/verifications/{started.json()['verification_id']}"
    checked = await client.post(confirm, json={"pin": pin}, headers=headers)
    assert checked.status_code == 200, checked.text
    token: str = checked.json()["token"]
    return token


async def _admission(client: Client, clock: FixedClock) -> str:
    joined = await client.post("/api/v1/queue")
    assert joined.status_code == 201, joined.text
    clock.advance(timedelta(seconds=2))
    polled = await client.get(f"/api/v1/queue/{joined.json()['ticket']}")
    assert polled.status_code == 200 and polled.json()["admitted"], polled.text
    token: str = polled.json()["admission_token"]
    return token


async def _offers(client: Client) -> list[list[int]]:
    url = f"/api/v1/centres/{BIELEFELD}/offers?vaccine=BNT&persons=1&limit=3"
    return [
        [a["slot_id"] for a in o["appointments"]] for o in (await client.get(url)).json()["offers"]
    ]


def _book(client: Client, admission: str, token: str, n: int, offer: list[int], key: str) -> Any:
    headers = {"X-Admission": admission, "Authorization": f"Bearer {token}", "Idempotency-Key": key}
    order = {"persons": [person(n, phone=phone(n))], "slot_ids": offer}
    return client.post("/api/v1/bookings", json=order, headers=headers)


async def test_faults_3_a_used_admission_does_not_book_again_after_redis_lost_everything(
    settings: Settings, clock: FixedClock, services: Services, redis_prefix: str
) -> None:
    """Stops an admission already used from booking again once Redis lost its records."""
    app = create_app(_room(settings, redis_url=REDIS_URL, redis_prefix=redis_prefix), clock)
    async with AsyncTestClient(app) as client:
        admission = await _admission(client, clock)
        offers = await _offers(client)
        token = await _verified(client, services, admission, 1)
        first = await _book(client, admission, token, 1, offers[0], "one")
        assert first.status_code == 201, first.text

        await delete_redis_prefix(redis_prefix)  # Redis restarted without persistence
        clock.advance(timedelta(seconds=2))
        other = await _verified(client, services, admission, 2)  # its session goes on
        again = await _book(client, admission, other, 2, offers[1], "two")
        assert "already used" in error_of(again, 403, "admission_used")["message"]
        replay = await _book(client, admission, token, 1, offers[0], "one")
        assert replay.status_code == 201 and replay.json()["code"] == first.json()["code"]


# --- item 4: only a booking that committed uses the admission up --------------------------------


@sqlite_only
async def test_faults_4_a_failed_booking_leaves_the_admission_usable(
    settings: Settings,
    clock: FixedClock,
    services: Services,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Stops a booking that failed on the server side (then 409 on its retry) from using up
    the admission, so that the person is not sent to the back of the line with nothing
    booked; and a retry after a commit whose answer was lost gets the stored answer."""
    app = create_app(_room(settings, redis_url=REDIS_URL, redis_prefix=redis_prefix), clock)
    real_book_seats, real_store = booking_repo.book_seats, Booking._store

    async def connection_killed(*args: Any, **kwargs: Any) -> Any:
        await real_book_seats(*args, **kwargs)  # seats taken, then the connection is gone
        raise ConnectionResetError("connection reset by peer")

    async def answer_lost(*args: Any, **kwargs: Any) -> Any:
        await real_store(*args, **kwargs)  # committed, then the answer is lost
        raise ConnectionResetError("connection reset by peer")

    async with AsyncTestClient(app) as client:
        admission = await _admission(client, clock)
        token = await _verified(client, services, admission, 1)
        offers = await _offers(client)
        monkeypatch.setattr(booking_repo, "book_seats", connection_killed)
        failed = await _book(client, admission, token, 1, offers[0], "one")
        error_of(failed, 500)
        monkeypatch.setattr(booking_repo, "book_seats", real_book_seats)
        taken = slots.c.id.in_(offers[0])
        async with changed_rows(services.db, slots, taken, booked=slots.c.capacity):
            retried = await _book(client, admission, token, 1, offers[0], "one")
            error_of(retried, 409, "slot_taken")
        booked = await _book(client, admission, token, 1, offers[1], "two")
        assert booked.status_code == 201, booked.text  # not 403 admission_used

        other = await _admission(client, clock)
        token = await _verified(client, services, other, 2)
        monkeypatch.setattr(Booking, "_store", answer_lost)
        error_of(await _book(client, other, token, 2, offers[2], "three"), 500)
        monkeypatch.setattr(Booking, "_store", real_store)
        replay = await _book(client, other, token, 2, offers[2], "three")
        assert replay.status_code == 201, replay.text  # the stored answer: booked once
        third = await _verified(client, services, other, 3)
        error_of(await _book(client, other, third, 3, offers[0], "four"), 403, "admission_used")


async def test_faults_3_the_waiting_who_ask_last_after_a_restart_still_rejoin(
    store: WaitingRoomStore,
) -> None:
    """Seen in `make bench-faults` (46 people sent back with 404 unknown_ticket): after a
    store came back empty, those who ask first rejoin and are admitted, which lifts the
    highest score admitted above the people who had not asked yet; they must rejoin too."""
    opens, now = 1_000.0, 2_000.0
    await store.restore(
        Restore(1_500.0, 0, False, None, 0.0, None, rejoin_until=now + REJOIN_HOLD_S)
    )
    step = Step(now, True, 1.0, 900.0, opens)
    late_asker, early_asker = "ticket-at-1600-a", "ticket-at-1700-b"
    first = await store.poll(early_asker, 1_700.0, step)  # lost with the store: back in line
    assert first.status in ("waiting", "admitted")
    for second in range(1, 4):  # admitted, so the highest admitted score is now 1,700
        await store.poll(early_asker, 1_700.0, Step(now + second, True, 1.0, 900.0, opens))
    later = await store.poll(late_asker, 1_600.0, Step(now + 5, True, 1.0, 900.0, opens))
    assert later.status in ("waiting", "admitted"), later
    # Once everyone had the time to ask, a ticket below what was admitted stays unknown.
    gone = await store.poll(
        "ticket-at-1650-c", 1_650.0, Step(now + REJOIN_HOLD_S + 1, True, 1.0, 900.0, opens)
    )
    assert gone.status == "unknown"
