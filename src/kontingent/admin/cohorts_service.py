"""Use cases of the cohorts admins edit: list, add, change.

Invariants kept here:
- A cohort is checked whole after a change is merged in (cohorts_model.py), its vaccines
  against those stored in the same transaction: a refusal names every wrong field and
  changes nothing.
- Each change is one transaction with its audit row (`cohort_added`, `cohort_changed` with
  every field's before and after); a change of nothing writes nothing.
- A change reaches every process's catalogue at once (`Inventory.catalogue_changed`: here
  at once, elsewhere through the cache invalidation over Redis, else within a second through
  the catalogue's version, raised in the change's transaction), and a cohort opens at its
  `opens_at` minute wherever it was read, since whether it
  is open is decided per request against the clock (eligibility and booking checks alike).
- Bookings already made stay: narrowing a cohort refuses new bookings only.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import cohorts_repository as repo
from kontingent.admin.campaign_model import changes_of, described
from kontingent.admin.campaign_service import Who, refuse
from kontingent.admin.cohorts_model import CohortRule, problems
from kontingent.admin.vaccines_repository import all_vaccines
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import NotFound
from kontingent.inventory import catalogue_version
from kontingent.inventory.service import Inventory
from kontingent.staff import audit

FIELDS = tuple(f.name for f in fields(CohortRule))
Stored = repo.Stored


def unknown(cohort_id: int) -> NotFound:
    return NotFound(f"there is no cohort {cohort_id}: see GET /api/v1/admin/cohorts",
                    code="unknown_cohort")  # fmt: skip


async def _checked(conn: AsyncConnection, rule: CohortRule) -> None:
    refuse(problems(rule, [v.code for v in await all_vaccines(conn)]))


class CohortRules:
    def __init__(self, db: Database, clock: Clock, inventory: Inventory) -> None:
        self.db = db
        self.clock = clock
        self.inventory = inventory

    async def all(self) -> list[Stored]:
        async with self.db.read() as conn:
            return await repo.all_cohorts(conn)

    async def one(self, cohort_id: int) -> Stored:
        async with self.db.read() as conn:
            found = await repo.cohort(conn, cohort_id)
        if found is None:
            raise unknown(cohort_id)
        return found

    async def add(self, rule: CohortRule, who: Who) -> Stored:
        async def work(conn: AsyncConnection) -> tuple[int, int]:
            await _checked(conn, rule)
            campaign = await repo.campaign_id(conn)
            if campaign is None:
                raise NotFound("no campaign is set up: run `kontingent seed --demo` first")
            new_id = await repo.add_cohort(conn, campaign, rule)
            details = described(rule, FIELDS)
            await audit.record(conn, who.entry("cohort_added", f"cohort:{new_id}", details),
                               self.clock.now())  # fmt: skip
            return new_id, await catalogue_version.bump(conn)

        new_id, version = await self.db.run_write(work)
        self.inventory.catalogue_changed(version=version)
        return new_id, rule

    async def change(self, cohort_id: int, changes: dict[str, Any], who: Who) -> Stored:
        async def work(conn: AsyncConnection) -> tuple[CohortRule, int | None]:
            found = await repo.cohort(conn, cohort_id, lock=True)
            if found is None:
                raise unknown(cohort_id)
            old = found[1]
            new = old.changed(changes)
            await _checked(conn, new)
            if new == old:
                return new, None
            await repo.save_cohort(conn, cohort_id, new)
            details = {"changes": changes_of(old, new, FIELDS)}
            entry = who.entry("cohort_changed", f"cohort:{cohort_id}", details)
            await audit.record(conn, entry, self.clock.now())
            return new, await catalogue_version.bump(conn)

        new, version = await self.db.run_write(work)
        if version is not None:
            self.inventory.catalogue_changed(version=version)
        return cohort_id, new
