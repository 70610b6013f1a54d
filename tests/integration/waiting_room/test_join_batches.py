"""Joins arriving together in one process go to Redis together (one script for many), and
each still gets its own place, in the order of the scores, as if it had come alone."""

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
from tests.integration.waiting_room.conftest import DEAD_REDIS_URL, OPENS, SECRET
from tests.support import REDIS_URL

pytestmark = pytest.mark.redis


async def test_joins_arriving_together_share_a_script_and_keep_their_places(
    redis_prefix: str, clock: FixedClock
) -> None:
    store = RedisWaitingRoom.from_url(REDIS_URL, redis_prefix)
    config = RoomConfig(Mode.SCHEDULED, OPENS.timestamp(), rate=1.0)
    room = WaitingRoom(store, clock, SECRET, config, rng=random.Random(5))
    try:
        clock.set(OPENS - timedelta(seconds=30))
        await room.stats()  # connected and synced before the burst
        views = await asyncio.gather(*(room.join() for _ in range(300)))
        assert len({v.ticket for v in views}) == 300
        assert len({v.waiting for v in views}) < 100  # many joins per script
        assert max(v.waiting for v in views) == 300
        clock.set(OPENS)
        by_score = sorted(views, key=lambda v: tokens.ticket_score(SECRET, v.ticket) or 0.0)
        places = [(await room.status(v.ticket)).position for v in by_score]
        assert places == list(range(1, 301))  # every ticket stored, in the drawn order
    finally:
        await room.aclose()


async def test_joins_arriving_together_are_all_refused_when_redis_is_gone(
    clock: FixedClock,
) -> None:
    store = RedisWaitingRoom.from_url(DEAD_REDIS_URL, "kt_test_dead:")
    config = RoomConfig(Mode.SCHEDULED, OPENS.timestamp(), rate=1.0)
    room = WaitingRoom(store, clock, SECRET, config, rng=random.Random(5))
    try:
        clock.set(OPENS)
        joined = await asyncio.gather(*(room.join() for _ in range(20)), return_exceptions=True)
        assert all(isinstance(j, WaitingRoomPaused) for j in joined), joined
    finally:
        await room.aclose()
