"""The waiting room's stores for the behaviour suite: in memory, and in the local Redis under
a random key prefix per test (deleted afterwards, so parallel runs do not meet); and a Redis
server of a test's own, to kill and start again empty."""

from __future__ import annotations

import random
import secrets
import socket
import subprocess
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

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


@dataclass
class PrivateRedis:
    """A `redis-server` of one test, without persistence: `kill` is kill -9, and `start`
    after it brings the same port back empty, as a restarted production Redis without
    persistence comes back."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    drain: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly"]
        self.process = subprocess.Popen(
            ["redis-server", *args, "no", "--dir", str(self.workdir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        said = []
        assert self.process.stdout is not None
        for line in self.process.stdout:  # blocks until it is ready (or gone): no sleeping
            said.append(line.decode(errors="replace"))
            if "Ready to accept connections" in said[-1]:
                # Keep reading what it says, so that a full pipe never stops it.
                self.drain = threading.Thread(target=self.process.stdout.read, daemon=True)
                self.drain.start()
                return
        raise RuntimeError("redis-server did not start:\n" + "".join(said))

    def kill(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        if self.drain is not None:
            self.drain.join()  # it read to the end of the dead server's output
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.process = self.drain = None

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    with socket.socket() as probe:  # a port the system just handed out, free right now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = PrivateRedis(port, tmp_path)
    server.start()
    yield server
    server.kill()
