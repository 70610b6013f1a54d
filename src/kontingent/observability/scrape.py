"""What `/metrics` reads when it is asked: shared state (outbox, waiting room) and the
counters each process keeps in memory (availability cache, rate limits, invalidation).

Invariants kept here:
- Shared state is read by the scraping process only, at most once per `ttl_s` (a scrape
  behind a busy database must not add load), and reported as gauges of that reading; they
  never go into the multiprocess files, where N workers would add N copies of one backlog.
- A process's in-memory counters reach the multiprocess files as increments (`sync`), every
  few seconds from each worker and once more by the scraping worker before it answers, so the
  sum over workers is right and a worker that was restarted keeps what it had counted.
- A source that fails is left out of the answer (and logged), never reported as zero: "no
  data" must not look like "no backlog".
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

import structlog
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from kontingent.notifications import repository as outbox

if TYPE_CHECKING:
    from kontingent.services import Services

log = structlog.get_logger(__name__)
SHARED_TTL_S = 5.0

# Counter name -> help; `process_totals` reads each running total from the services.
PROCESS_COUNTERS: Mapping[str, str] = {
    "kontingent_cache_hits": "Availability readings served from the cache",
    "kontingent_cache_misses": "Availability readings loaded from the database",
    "kontingent_cache_remote_changes": "Slot changes applied that another process announced",
    "kontingent_rate_limit_refusals": "Requests refused by a rate limit",
    "kontingent_rate_limit_unchecked": "Requests let through because the limit store was down",
    "kontingent_invalidation_published": "Slot change messages published to other processes",
    "kontingent_invalidation_dropped": "Slot change messages dropped because Redis failed",
    "kontingent_database_incidents": "Spells of database failure begun (unreachable, timeouts)",
    "kontingent_database_refusals": "Requests answered 503 because the database failed them",
    "kontingent_database_timeouts": "Statements cancelled by statement_timeout or lock_timeout",
}


def process_totals(services: Services) -> dict[str, int]:
    """This process's running totals, as the services count them in memory."""
    totals: dict[str, int] = {}
    stats = services.inventory.cache_stats()
    totals["kontingent_cache_hits"] = stats.hits
    totals["kontingent_cache_misses"] = stats.misses
    totals["kontingent_cache_remote_changes"] = stats.remote_changes
    totals["kontingent_rate_limit_refusals"] = services.limits.refused
    totals["kontingent_rate_limit_unchecked"] = services.limits.unavailable
    outages = services.db.outages.totals
    totals["kontingent_database_incidents"] = outages.incidents
    totals["kontingent_database_refusals"] = outages.refused
    totals["kontingent_database_timeouts"] = outages.timeouts
    if services.invalidation is not None:
        totals["kontingent_invalidation_published"] = services.invalidation.published
        totals["kontingent_invalidation_dropped"] = services.invalidation.dropped
    return totals


class ProcessCounters:
    """Counters fed from in-memory running totals, by the difference since the last sync."""

    def __init__(self) -> None:
        self.counters = {
            name: Counter(name, text, registry=None) for name, text in PROCESS_COUNTERS.items()
        }
        self._seen: dict[str, int] = {}

    def metrics(self) -> list[Counter]:
        return list(self.counters.values())

    def sync(self, totals: Mapping[str, int]) -> None:
        for name, total in totals.items():
            delta = total - self._seen.get(name, 0)
            if delta > 0:
                self.counters[name].inc(delta)
            self._seen[name] = max(total, self._seen.get(name, 0))


def _gauge(name: str, text: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, text, labels=labels)


class SharedState(Collector):
    """Gauges of the outbox backlog and the waiting room, read at scrape time, cached."""

    def __init__(self, services: Services, ttl_s: float = SHARED_TTL_S) -> None:
        self.services = services
        self.ttl_s = ttl_s
        self._families: list[GaugeMetricFamily] = []
        self._read_at = -float("inf")

    async def refresh(self) -> None:
        if time.monotonic() - self._read_at < self.ttl_s:
            return
        families: list[GaugeMetricFamily] = []
        families += await self._outbox()
        families += await self._waiting_room()
        self._families = families
        self._read_at = time.monotonic()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield from self._families
        inventory = self.services.inventory
        if getattr(inventory, "invalidation_enabled", False):  # only with Redis configured
            yield _single(
                "kontingent_cache_invalidation_connected",
                "1 while the answering worker hears other processes' slot changes (Redis)",
                1.0 if getattr(inventory, "invalidation_connected", False) else 0.0,
            )

    async def _outbox(self) -> list[GaugeMetricFamily]:
        now = self.services.clock.now()
        try:
            async with self.services.db.read() as conn:
                rows = await outbox.backlog(conn, now)
        except Exception as exc:
            log.warning("metrics_outbox_unreadable", error=type(exc).__name__)
            return []
        pending = _gauge("kontingent_outbox_pending", "Messages not yet sent", ["channel"])
        due = _gauge("kontingent_outbox_due", "Messages that could go now", ["channel"])
        parked = _gauge("kontingent_outbox_parked", "Messages parked after failing", ["channel"])
        age = _gauge(
            "kontingent_outbox_oldest_due_seconds",
            "Age of the oldest message that could go now (0 when none)",
            ["channel"],
        )
        for row in rows:
            pending.add_metric([row.channel], row.pending)
            due.add_metric([row.channel], row.due)
            parked.add_metric([row.channel], row.parked)
            oldest = 0.0 if row.oldest_due is None else (now - row.oldest_due).total_seconds()
            age.add_metric([row.channel], max(oldest, 0.0))
        return [pending, due, parked, age]

    async def _waiting_room(self) -> list[GaugeMetricFamily]:
        """The room as every process sees it (Redis), or as this process does (embedded)."""
        try:
            stats = await self.services.waiting_room.stats()
        except Exception as exc:
            log.warning("metrics_waiting_room_unreadable", error=type(exc).__name__)
            return []
        families = [
            _single(f"kontingent_waiting_room_{name}", text, float(getattr(stats, field)))
            for name, field, text in WAITING_ROOM_GAUGES
        ]
        mode = _gauge("kontingent_waiting_room_mode", "Waiting room mode (1 = current)", ["mode"])
        for each in ("off", "scheduled", "auto"):
            mode.add_metric([each], 1.0 if stats.mode == each else 0.0)
        return [*families, mode]


# (metric suffix, RoomStats field, help)
WAITING_ROOM_GAUGES = (
    ("waiting", "waiting", "People in the queue now"),
    ("serving", "serving", "Queue number now being served (grows as people are admitted)"),
    ("admitted_per_second", "admitted_per_s", "Admissions per second, observed"),
    ("rate", "rate", "Admission rate the operator set, per second"),
    ("effective_rate", "effective_rate", "Admission rate in force (capped by bookings/s)"),
    ("paused", "paused", "1 when admission is paused because the store is unreachable"),
    ("guarding", "guarding", "1 when verification and booking need an admission"),
    ("expired", "expired", "Admissions that expired unused (since the room began)"),
    ("recycled", "recycled", "Places given back after an admission expired"),
)


def _single(name: str, text: str, value: float) -> GaugeMetricFamily:
    gauge = _gauge(name, text)
    gauge.add_metric([], value)
    return gauge
