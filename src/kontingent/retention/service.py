"""The personal-data purge: what the privacy notice promises ("deleted after the campaign").

Invariants kept here:
- Only bookings whose every appointment lay before `ended_before` (a Berlin day, today at the
  latest: an appointment later than today has not happened) lose their persons' personal
  data; anonymous counts stay (see repository.py).
- Batches of `batch` bookings, each in one transaction with its audit row: a purge stopped
  half-way has purged whole bookings only, says so in the log, and a second run goes on
  where the first stopped. Running it again purges nothing twice (`purged_at`).
- `count` changes nothing: the dry run says how many bookings and persons a purge would take.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time
from functools import partial

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.clock import BERLIN, Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput
from kontingent.retention import repository as repo
from kontingent.staff import audit

BATCH = 500  # bookings per transaction: short locks beside the running booking traffic
ACTION = "personal_data_purged"


@dataclass(frozen=True, slots=True)
class Purged:
    bookings: int
    persons: int


class Retention:
    def __init__(self, db: Database, clock: Clock, batch: int = BATCH) -> None:
        self.db = db
        self.clock = clock
        self.batch = batch

    def _cutoff(self, ended_before: date) -> datetime:
        """The start of `ended_before` in Berlin; refused when that day is still to come."""
        today = self.clock.now().astimezone(BERLIN).date()
        if ended_before > today:
            raise InvalidInput(
                f"{ended_before} is after today ({today}): appointments on it have not ended; "
                "name today or an earlier day",
                code="ended_before_in_future",
                field="ended_before",
            )
        return datetime.combine(ended_before, time(0), tzinfo=BERLIN)

    async def count(self, ended_before: date) -> Purged:
        cutoff = self._cutoff(ended_before)
        async with self.db.read() as conn:
            return Purged(*await repo.count_purgeable(conn, ended_before, cutoff))

    async def purge(self, ended_before: date, entry: audit.Entry) -> Purged:
        """Purge in batches until nothing is left; the totals. `entry` names who asked."""
        cutoff = self._cutoff(ended_before)
        total = Purged(0, 0)
        while True:
            work = partial(self._batch, ended_before=ended_before, cutoff=cutoff, entry=entry)
            done = await self.db.run_write(work)
            if not done.bookings:
                return total
            total = Purged(total.bookings + done.bookings, total.persons + done.persons)

    async def _batch(
        self, conn: AsyncConnection, *, ended_before: date, cutoff: datetime, entry: audit.Entry
    ) -> Purged:
        ids = await repo.purgeable_ids(conn, ended_before, cutoff, self.batch)
        if not ids:
            return Purged(0, 0)
        now = self.clock.now()
        persons = await repo.purge(conn, ids, now)
        details = {
            "ended_before": ended_before.isoformat(),
            "bookings": len(ids),
            "persons": persons,
            "first_id": ids[0],
            "last_id": ids[-1],
        }
        await audit.record(conn, replace(entry, action=ACTION, details=details), now)
        return Purged(len(ids), persons)
