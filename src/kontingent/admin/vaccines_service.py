"""Use cases of the vaccines admins edit: list, add, change.

Invariants kept here:
- A rule is checked whole after a change is merged in (vaccines_model.py): a refusal names
  every wrong field and changes nothing.
- Each change is one transaction with its audit row (`vaccine_added`, `vaccine_changed`
  with every field's before and after); a change of nothing writes nothing.
- A new interval or age limit applies to offers and bookings from now on: slots, bookings
  and appointments already made are never touched, so a booked second dose keeps its date.
- Every process reads the catalogue anew at once (`Inventory.catalogue_changed`, over
  Redis), and within a second without it: each change raises the catalogue's version in its
  transaction (inventory/catalogue_version.py).
"""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import vaccines_repository as repo
from kontingent.admin.campaign_model import changes_of
from kontingent.admin.campaign_service import Who, refuse
from kontingent.admin.vaccines_model import VaccineRule, new_problems, problems
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import Conflict, NotFound
from kontingent.inventory import catalogue_version
from kontingent.inventory.service import Inventory
from kontingent.staff import audit

FIELDS = tuple(f.name for f in fields(VaccineRule))


def unknown(code: str) -> NotFound:
    return NotFound(
        f"there is no vaccine {code!r}: see GET /api/v1/admin/vaccines", code="unknown_vaccine"
    )


class VaccineRules:
    def __init__(self, db: Database, clock: Clock, inventory: Inventory) -> None:
        self.db = db
        self.clock = clock
        self.inventory = inventory

    async def all(self) -> list[VaccineRule]:
        async with self.db.read() as conn:
            return await repo.all_vaccines(conn)

    async def one(self, code: str) -> VaccineRule:
        async with self.db.read() as conn:
            found = await repo.vaccine(conn, code)
        if found is None:
            raise unknown(code)
        return found

    async def add(self, rule: VaccineRule, who: Who) -> VaccineRule:
        refuse(new_problems(rule))

        async def work(conn: AsyncConnection) -> int:
            if await repo.vaccine(conn, rule.code, lock=True) is not None:
                raise Conflict(f"the vaccine {rule.code!r} exists: change it with PATCH",
                               code="vaccine_exists", field="code")  # fmt: skip
            await repo.add_vaccine(conn, rule)
            entry = who.entry("vaccine_added", f"vaccine:{rule.code}", asdict(rule))
            await audit.record(conn, entry, self.clock.now())
            return await catalogue_version.bump(conn)

        version = await self.db.run_write(work)
        self.inventory.catalogue_changed(version=version)
        return rule

    async def change(self, code: str, changes: dict[str, Any], who: Who) -> VaccineRule:
        async def work(conn: AsyncConnection) -> tuple[VaccineRule, int | None]:
            old = await repo.vaccine(conn, code, lock=True)
            if old is None:
                raise unknown(code)
            new = old.changed(changes)
            refuse(problems(new))
            if new == old:
                return new, None
            await repo.save_vaccine(conn, new)
            details = {"changes": changes_of(old, new, FIELDS)}
            entry = who.entry("vaccine_changed", f"vaccine:{code}", details)
            await audit.record(conn, entry, self.clock.now())
            return new, await catalogue_version.bump(conn)

        new, version = await self.db.run_write(work)
        if version is not None:
            self.inventory.catalogue_changed(version=version)
        return new
