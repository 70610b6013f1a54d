"""The live dashboard: what the campaign does right now, read from cheap aggregates.

Invariants kept here:
- One snapshot is read at most every `ttl_s` seconds per process, however many dashboards
  poll (concurrent polls share one read): a dashboard open during the rush adds a handful of
  small indexed reads every few seconds, never work on the booking path.
- Free pairs come from seats per day (`slot_days`, inventory/feed.py `free_by_day`), counted
  as the public feed counts offers, never by reading slots one by one.
- Reads only: nothing here changes the campaign, so nothing here is audited.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import dashboard_repository as repo
from kontingent.admin.dashboard_model import (
    FREE_DAYS,
    WINDOW_MINUTES,
    FreePairs,
    Queue,
    Snapshot,
    TodaysRelease,
    booking_rate,
    forecast,
    minute_series,
    totals_of,
)
from kontingent.admin.releases_repository import releases_between
from kontingent.clock import BERLIN, Clock
from kontingent.db import Database
from kontingent.inventory.cache import TtlCache
from kontingent.inventory.feed import free_by_day, offer_horizon
from kontingent.inventory.model import count_day_offers, local_day
from kontingent.inventory.repository import Catalogue
from kontingent.inventory.service import Inventory
from kontingent.waiting_room.service import WaitingRoom

DASHBOARD_TTL_S = 2.0  # how stale a polled figure may be; polls come every 5 s


class Dashboard:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        inventory: Inventory,
        waiting_room: WaitingRoom,
        ttl_s: float = DASHBOARD_TTL_S,
    ) -> None:
        self.db, self.clock = db, clock
        self.inventory, self.waiting_room = inventory, waiting_room
        self._cache: TtlCache[Snapshot] = TtlCache(ttl_s)

    async def snapshot(self) -> Snapshot:
        return await self._cache.get("snapshot", self._read)

    async def _read(self) -> Snapshot:
        now = self.clock.now()
        catalogue = await self.inventory.catalogue()
        async with self.db.read() as conn:
            since = now.replace(second=0, microsecond=0) - timedelta(minutes=WINDOW_MINUTES - 1)
            counted = await repo.bookings_by_minute(conn, since)
            outbox = await repo.outbox_figures(conn, now, now - timedelta(hours=1))
            due = await self._pairs_due(conn, catalogue, now)
            releases = await self._releases_today(conn, now)
        minutes = minute_series(now, counted)
        free = await self.free_pairs(catalogue, now)
        total_free = sum(f.pairs for f in free)
        return Snapshot(
            at=now,
            minutes=minutes,
            free=free,
            queue=await self._queue(),
            outbox=outbox,
            forecast=forecast(now, total_free, due, booking_rate(minutes)),
            totals=totals_of(minutes),
            releases=releases,
        )

    async def free_pairs(self, catalogue: Catalogue, now: datetime) -> list[FreePairs]:
        """Offers per centre and vaccine with a first dose in the next FREE_DAYS days."""
        free = await free_by_day(self.db, catalogue, now, offer_horizon(catalogue, FREE_DAYS))
        last_first = local_day(now).toordinal() + FREE_DAYS - 1
        return [
            FreePairs(
                centre.id,
                centre.name,
                vaccine.code,
                count_day_offers(free.get((centre.id, vaccine.code), {}), vaccine, last_first),
            )
            for centre in catalogue.centres.values()
            for vaccine in catalogue.vaccines.values()
        ]

    async def _pairs_due(self, conn: AsyncConnection, catalogue: Catalogue, now: datetime) -> int:
        """Pairs of the releases still due today for the next FREE_DAYS days: seats halved
        for a two-dose vaccine (each pair takes two seats)."""
        today = local_day(now)
        midnight = datetime.combine(today + timedelta(days=1), time(), BERLIN)
        last = today + timedelta(days=FREE_DAYS - 1)
        seats = await repo.seats_due(conn, now, midnight, today, last)
        doses = {code: v.doses for code, v in catalogue.vaccines.items()}
        return sum(n // doses.get(code, 1) for code, n in seats)

    async def _releases_today(self, conn: AsyncConnection, now: datetime) -> list[TodaysRelease]:
        """Today's releases (Berlin day), scheduled and done (admin/releases_repository.py)."""
        today = local_day(now)
        start = datetime.combine(today, time(), BERLIN)
        found = await releases_between(conn, start, start + timedelta(days=1))
        return [TodaysRelease(r.id, r.release_at, r.vaccine_code, r.status, r.seats) for r in found]

    async def _queue(self) -> Queue:
        stats = await self.waiting_room.stats()
        return Queue(
            stats.mode,
            stats.guarding,
            stats.paused,
            stats.waiting,
            stats.rate,
            stats.admitted_per_s,
        )
