"""The waiting room's stores for the behaviour suite: in memory, and in the local Redis under
a random key prefix per test (deleted afterwards, so parallel runs do not meet)."""

from __future__ import annotations

import random
import secrets
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import pytest

from kontingent.clock import FixedClock
from kontingent.waiting_room.model import Mode, RoomConfig
from kontingent.waiting_room.redis_store import RedisWaitingRoom
from kontingent.waiting_room.service import WaitingRoom
from kontingent.waiting_room.store import MemoryWaitingRoom, WaitingRoomStore
from tests.support import REDIS_URL, T0, delete_redis_prefix

DEAD_REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
SECRET = "test-secret-" + "w" * 30
OPENS = T0 + timedelta(minutes=10)


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"kt_test_wr_{secrets.token_hex(4)}:"
    yield prefix
    await delete_redis_prefix(prefix)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[WaitingRoomStore]:
    made: WaitingRoomStore = (
        MemoryWaitingRoom()
        if request.param == "memory"
        else RedisWaitingRoom.from_url(REDIS_URL, redis_prefix)
    )
    yield made
    await made.aclose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


RoomFactory = Callable[..., WaitingRoom]


@pytest.fixture
def make_room(store: WaitingRoomStore, clock: FixedClock) -> RoomFactory:
    """A service (one 'process') on the shared store; each call is another process."""

    def make(seed: int = 7, **config: object) -> WaitingRoom:
        defaults: dict[str, object] = {
            "mode": Mode.SCHEDULED,
            "opens_at": OPENS.timestamp(),
            "rate": 10.0,
            "ttl_s": 300.0,
        }
        defaults.update(config)
        room_config = RoomConfig(**defaults)  # type: ignore[arg-type]
        return WaitingRoom(store, clock, SECRET, room_config, rng=random.Random(seed))

    return make
