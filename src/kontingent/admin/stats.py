"""Statistics like the press figures of a campaign, and the population they are shared of.

Invariants kept here:
- Every figure is counted from what is committed, on one connection; on PostgreSQL each count
  reads its own snapshot (db.read runs in autocommit), so figures taken during a rush may
  differ by the bookings committed between two counts, never by a half-done one.
- A cohort's share of its eligible population is given only from an imported population
  (`kontingent population import`), never estimated (stats_model.py).
- The import replaces the population in one transaction, after the whole file was checked
  (population.py): a file with one bad line changes nothing.
- Vaccinated per day is what the centres recorded (`centre/repository.py` `day_figures`,
  the same count the centre console shows), summed over the centres.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import stats_repository as repo
from kontingent.admin.stats_model import (
    CHANNELS,
    VACCINATED_DAYS,
    AgeGroup,
    CentreFigures,
    CohortFigures,
    Figures,
    cohort_figures,
    latest_birth_date,
    merge_groups,
    vaccinated_by_day,
)
from kontingent.centre.repository import day_figures
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.inventory.model import local_day
from kontingent.inventory.service import Inventory


class Statistics:
    def __init__(self, db: Database, clock: Clock, inventory: Inventory) -> None:
        self.db, self.clock, self.inventory = db, clock, inventory

    async def figures(self) -> Figures:
        catalogue = await self.inventory.catalogue()
        now = self.clock.now()
        async with self.db.read() as conn:
            channels = await repo.bookings_by(conn, "channel")
            per_centre = await repo.bookings_by(conn, "centre_id")
            doses = await repo.appointments_by(conn, "dose")
            booked_at = await repo.appointments_by(conn, "centre_id")
            by_vaccine = await repo.appointments_by(conn, "vaccine_code")
            free = await repo.free_by_centre(conn, local_day(now), now)
            names = await repo.centre_names(conn)
            persons = await repo.persons_booked(conn)
            groups = merge_groups(await repo.age_groups(conn))
            today = local_day(now)
            first_day = today - timedelta(days=VACCINATED_DAYS - 1)
            recorded = await day_figures(conn, first_day, today)
            cohorts = [
                await self._cohort(conn, c.id, c.name, c.min_age, c.max_age, groups)
                for c in catalogue.cohorts
            ]
        centres = [
            CentreFigures(i, name, per_centre.get(i, 0), booked_at.get(i, 0), free.get(i, 0))
            for i, name in names.items()
        ]
        return Figures(
            bookings=sum(channels.values()),
            persons=persons,
            appointments_booked=sum(doses.values()),
            first_doses=doses.get(1, 0),
            second_doses=doses.get(2, 0),
            appointments_free=sum(free.values()),
            by_channel={c: channels.get(c, 0) for c in CHANNELS},
            by_centre=centres,
            cohorts=cohorts,
            population_imported=bool(groups),
            by_vaccine={str(k): n for k, n in sorted(by_vaccine.items(), key=str)},
            vaccinated_by_day=vaccinated_by_day(recorded),
        )

    async def _cohort(
        self,
        conn: AsyncConnection,
        cohort_id: int,
        name: str,
        min_age: int,
        max_age: int | None,
        groups: Sequence[AgeGroup],
    ) -> CohortFigures:
        today = local_day(self.clock.now())
        born_until = latest_birth_date(today, min_age)
        # Older than max_age: born on or before the last birth date of max_age + 1 years.
        born_after = None if max_age is None else latest_birth_date(today, max_age + 1)
        persons = await repo.persons_aged(conn, born_until, born_after)
        return cohort_figures(cohort_id, name, min_age, max_age, persons, groups)
