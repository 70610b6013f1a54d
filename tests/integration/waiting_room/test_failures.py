"""What the room does when Redis is gone (fails closed), and that concurrent processes never
admit one credit twice."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import pytest

from kontingent.clock import FixedClock
from kontingent.waiting_room import tokens
from kontingent.waiting_room.model import Mode, RoomConfig
from kontingent.waiting_room.redis_store import RedisWaitingRoom
from kontingent.waiting_room.service import WaitingRoom, WaitingRoomPaused
from tests.integration.waiting_room.conftest import DEAD_REDIS_URL, OPENS, SECRET, RoomFactory

pytestmark = pytest.mark.redis


async def test_with_redis_unreachable_nobody_is_let_in_and_joins_say_so() -> None:
    clock = FixedClock(OPENS + timedelta(seconds=5))
    store = RedisWaitingRoom.from_url(DEAD_REDIS_URL, "kt_test_dead:")
    config = RoomConfig(Mode.SCHEDULED, OPENS.timestamp(), rate=100.0)
    room = WaitingRoom(store, clock, SECRET, config, rng=random.Random(1))
    try:
        with pytest.raises(WaitingRoomPaused) as caught:
            await room.join()
        assert caught.value.status == 503 and caught.value.retry_after_s > 0
        assert caught.value.code == "waiting_room_paused"
        assert "nobody is being let in" in caught.value.message
        with pytest.raises(WaitingRoomPaused):
            await room.status(tokens.new_ticket())
        stats = await room.stats()
        assert stats.paused and stats.guarding  # the door stays shut
        ticket = tokens.new_ticket()
        earlier = tokens.sign(SECRET, ticket, clock.now().timestamp() + 60)
        clock.advance(timedelta(seconds=2))  # past the pause: the store is asked again
        async with room.booking(earlier) as admission:  # granted before: still valid, and
            assert admission == ticket  # the booking records it, so it books only once
        with pytest.raises(WaitingRoomPaused):
            await room.configure(rate=5.0)
    finally:
        await room.aclose()


async def test_two_processes_polling_at_once_admit_each_credit_once(
    make_room: RoomFactory, clock: FixedClock
) -> None:
    one, two = make_room(seed=1, rate=10.0), make_room(seed=2, rate=10.0)
    clock.set(OPENS)
    tickets = []
    for i in range(200):
        tickets.append((await (one if i % 2 else two).join()).ticket)
        clock.advance(timedelta(milliseconds=1))
    clock.set(OPENS + timedelta(seconds=5))
    # Every ticket asked at once, alternately through either process.
    rooms = (one, two)
    views = await asyncio.gather(*(rooms[i % 2].status(t) for i, t in enumerate(tickets)))
    admitted = {v.ticket for v in views if v.admitted}
    assert len(admitted) == 50
    assert admitted == set(tickets[:50])  # the front of the line, in order
    assert {v.serving for v in views} <= set(range(51))
    assert (await one.stats()).serving == 50
