"""Health, readiness and the metrics page of one web process.

Invariants kept here:
- Liveness (`/healthz`) does no I/O: a process whose event loop answers is alive, and a
  database outage must not make an orchestrator restart every healthy process.
- Readiness (`/readyz`) asks each dependency one cheap question (`SELECT 1`, `PING`) with a
  deadline of `timeout_s`, all at once, and names every dependency that failed.
- Redis is asked only when it is configured; without it the service runs in embedded mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import redis.asyncio as aioredis
import structlog
from prometheus_client import generate_latest

from kontingent.db import Database
from kontingent.errors import DatabaseUnavailable
from kontingent.observability.metrics import Metrics
from kontingent.observability.scrape import ProcessCounters, SharedState, process_totals
from kontingent.outage import describe
from kontingent.redis_pool import close_client

if TYPE_CHECKING:
    from kontingent.services import Services

log = structlog.get_logger(__name__)
READY_TIMEOUT_S = 2.0
SYNC_EVERY_S = 5.0


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    ms: float
    error: str | None = None


async def _timed(name: str, probe: Callable[[], Awaitable[object]], timeout_s: float) -> Check:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            await probe()
    except Exception as exc:
        return Check(name, False, _ms(started), _error_text(exc, timeout_s))
    return Check(name, True, _ms(started))


def _error_text(exc: Exception, timeout_s: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(exc, DatabaseUnavailable) and exc.__cause__ is not None:
        return describe(exc.__cause__)  # what the database said, not what clients are told
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1e3, 2)


class Readiness:
    def __init__(
        self, db: Database, redis_url: str | None, timeout_s: float = READY_TIMEOUT_S
    ) -> None:
        self.db = db
        self.timeout_s = timeout_s
        self.redis = (
            aioredis.Redis.from_url(
                redis_url,
                socket_timeout=timeout_s,
                socket_connect_timeout=timeout_s,
                client_name="kontingent-readyz",
            )
            if redis_url
            else None
        )

    async def check(self) -> list[Check]:
        probes: list[tuple[str, Callable[[], Awaitable[object]]]] = [("database", self._database)]
        if self.redis is not None:
            probes.append(("redis", self.redis.ping))
        return list(await asyncio.gather(*(_timed(n, p, self.timeout_s) for n, p in probes)))

    async def _database(self) -> None:
        async with self.db.read() as conn:
            await conn.exec_driver_sql("SELECT 1")

    async def aclose(self) -> None:
        if self.redis is not None:
            await close_client(self.redis)


class Observability:
    """The metrics and checks of one process, made by `create_app`, started by its lifespan."""

    def __init__(self, services: Services, metrics: Metrics) -> None:
        self.services = services
        self.metrics = metrics
        self.counters = ProcessCounters()
        self.shared = SharedState(services)
        self.readiness = Readiness(services.db, services.settings.redis_url)
        own = [] if metrics.multiprocess else [*metrics.own_metrics(), *self.counters.metrics()]
        self.registry = metrics.registry(*own, self.shared)

    def sync(self) -> None:
        self.counters.sync(process_totals(self.services))

    async def render(self) -> bytes:
        """The text exposition format of every process's values and the shared state."""
        self.sync()
        await self.shared.refresh()
        return generate_latest(self.registry)

    async def sync_forever(self, every_s: float = SYNC_EVERY_S) -> None:
        while True:
            try:
                self.sync()
            except Exception:
                log.exception("metrics_sync_failed")
            await asyncio.sleep(every_s)

    @contextlib.asynccontextmanager
    async def running(self, _: object = None) -> AsyncIterator[None]:
        """Sync this process's counters while the app runs; close the readiness client."""
        task = asyncio.create_task(self.sync_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.sync()
            await self.readiness.aclose()
