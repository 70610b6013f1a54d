"""The faults, one scenario each: what is done to the deployment, and when the fault ends.

Each `inject` runs while the load runs, starting at a known time; it calls `hands.end()` at
the moment the fault is over (a server started again, a lock released), or the fault ends
when `inject` returns. Recovery is measured from that moment. Nothing here restarts what the
fault did not touch: a web worker's death is left to the server, as in production.
Blocking steps run in a thread, so the load driver keeps its pace meanwhile.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from checks import unrecorded_now
from infra import Infrastructure
from stack import Deployment


@dataclass
class Hands:
    """What a fault may touch, how long it lasts, and what it noted."""

    infra: Infrastructure
    deployment: Deployment
    down_s: float
    ended_at: float | None = None
    notes: dict[str, Any] = field(default_factory=dict)

    def end(self) -> None:
        if self.ended_at is None:
            self.ended_at = time.time()


Inject = Callable[[Hands], Awaitable[None]]


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str  # "{s}" stands for the fault's length
    inject: Inject
    drain_s: float = 30.0  # how long the relay gets to deliver what is queued, afterwards
    down_s: float = 10.0  # the fault's length, where it has one (0: none)

    def length(self, override: float | None) -> float:
        """The fault's length: `override` (--down-s) where the fault has a length."""
        return override if override is not None and self.down_s else self.down_s

    def describe(self, override: float | None = None) -> str:
        return self.what.format(s=f"{self.length(override):g}")


async def _thread(work: Callable[..., object], *args: object) -> None:
    await asyncio.to_thread(work, *args)


async def nothing(h: Hands) -> None:
    """No fault: the control row."""


async def pg_restart(h: Hands) -> None:
    await _thread(h.infra.pg.stop, "fast")
    await _thread(h.infra.pg.start)


async def pg_kill(h: Hands) -> None:
    await _thread(h.infra.pg.kill)
    await asyncio.sleep(h.down_s)  # down until someone (a supervisor) starts it again
    await _thread(h.infra.pg.start)


async def redis_restart(h: Hands) -> None:
    await _thread(h.infra.redis.stop)
    await _thread(h.infra.redis.start)


async def redis_stop(h: Hands) -> None:
    await _thread(h.infra.redis.stop)
    await asyncio.sleep(h.down_s)
    await _thread(h.infra.redis.start)


async def redis_freeze(h: Hands) -> None:
    h.infra.redis.freeze()
    await asyncio.sleep(h.down_s)
    h.infra.redis.thaw()


async def worker_kill(h: Hands) -> None:
    h.notes["workers before"] = len(h.deployment.workers())
    h.notes["killed worker"] = h.deployment.kill_worker()
    h.end()
    await asyncio.sleep(h.down_s)  # then look whether the server is still there
    h.notes["server alive after"] = h.deployment.service_alive()
    h.notes["workers after"] = len(h.deployment.workers()) if h.deployment.service_alive() else 0


async def server_kill(h: Hands) -> None:
    h.deployment.kill_service()
    await asyncio.sleep(h.down_s)
    h.end()  # the start is part of the recovery
    await _thread(h.deployment.start_service)


async def sms_outage(h: Hands) -> None:
    await _thread(h.deployment.sms_outage, True)
    await asyncio.sleep(h.down_s)
    await _thread(h.deployment.sms_outage, False)


async def smtp_down(h: Hands) -> None:
    await _thread(h.deployment.stop_smtp)
    await asyncio.sleep(h.down_s)
    await _thread(h.deployment.start_smtp)


async def relay_kill(h: Hands) -> None:
    """The relay dies in the middle of a batch: held for a moment so that texts pile up (as
    behind a slow gateway or a busy CPU), let go, and killed once `KILL_AFTER_TEXTS` of them
    arrived. What the gateway got and the outbox does not record as sent then is what the
    crash makes it send again; with results recorded per message, at most the calls in
    flight."""
    h.deployment.hold_relay(True)
    await asyncio.sleep(RELAY_HELD_S)
    caught = await asyncio.to_thread(h.deployment.kill_relay_delivering, KILL_AFTER_TEXTS)
    sms = await asyncio.to_thread(h.deployment.sms_arrivals)
    h.notes["SMS delivered, unrecorded at the kill"] = await unrecorded_now(h.infra.pg.dsn, sms)
    if not caught:
        h.notes["killed"] = f"before {KILL_AFTER_TEXTS} texts of the pile arrived"
    await asyncio.sleep(h.down_s)
    h.end()
    await _thread(h.deployment.start_relay)


async def slots_lock(h: Hands) -> None:
    """Another session holds the slots table in ACCESS EXCLUSIVE mode (a migration gone
    wrong, an operator's transaction left open): every booking and offer read waits."""
    conn = await asyncpg.connect(h.infra.pg.dsn)
    try:
        async with conn.transaction():
            await conn.execute("LOCK TABLE slots IN ACCESS EXCLUSIVE MODE")
            await asyncio.sleep(h.down_s)
            h.end()
    finally:
        await conn.close()


RELAY_HELD_S = 3.0
KILL_AFTER_TEXTS = 20
# The relay leases what it claims for 120 s (notifications/service.py, LEASE): a killed
# relay's claimed batch goes out again only after that, so its scenario drains longer.
RELAY_LEASE_S = 120.0

SCENARIOS = [
    Scenario("baseline", "no fault: the control row", nothing, down_s=0),
    Scenario("pg-restart", "PostgreSQL restarted (fast shutdown, start)", pg_restart, down_s=0),
    Scenario("pg-kill", "PostgreSQL killed (-9), started {s} s later", pg_kill),
    Scenario(
        "redis-restart", "Redis restarted (empty without --redis-aof)", redis_restart, down_s=0
    ),
    Scenario("redis-stop", "Redis stopped for {s} s, then started again", redis_stop),
    Scenario("redis-freeze", "Redis frozen (SIGSTOP) for {s} s, then SIGCONT", redis_freeze),
    Scenario(
        "worker-kill", "one of 2 web workers killed (-9), left alone, watched {s} s", worker_kill
    ),
    Scenario(
        "server-kill", "the whole server killed (-9), started {s} s later", server_kill, 30, 2
    ),
    Scenario("sms-outage", "SMS gateway answers 503 for {s} s, then recovers", sms_outage, 30, 30),
    Scenario("smtp-down", "SMTP server down for {s} s", smtp_down, down_s=15),
    Scenario(
        "relay-kill",
        "the relay killed (-9) while delivering a pile of texts, started {s} s later",
        relay_kill,
        drain_s=RELAY_LEASE_S + 30,
        down_s=2,
    ),
    Scenario("slots-lock", "LOCK TABLE slots IN ACCESS EXCLUSIVE MODE held {s} s", slots_lock),
]
BY_NAME = {s.name: s for s in SCENARIOS}
