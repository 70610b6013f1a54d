"""The eligibility check: birth date and postcode in, what this person may book out.

Invariants kept here:
- A postcode outside the campaign's districts is refused with where to book instead
  (eligibility/postcodes.py); one that does not exist, with "check it".
- A postcode spanning districts is settled only by the district the person names.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kontingent.booking.people import check_birth_date
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.eligibility.model import Decision, decide
from kontingent.eligibility.postcodes import (
    Part,
    choose_part,
    outside,
    parts_of,
    refuse_outside,
    served_rows,
)
from kontingent.eligibility.repository import replace_postcodes
from kontingent.errors import InvalidInput
from kontingent.inventory import catalogue_version
from kontingent.inventory.model import local_day
from kontingent.inventory.service import Inventory
from kontingent.schema import districts


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    decision: Decision
    centre_names: list[str]
    district: str
    district_id: int


class Eligibility:
    def __init__(self, inventory: Inventory, clock: Clock) -> None:
        self.inventory = inventory
        self.clock = clock

    async def parts(self, postcode: str) -> list[Part]:
        """The parts of a postcode: its districts of the campaign, and any part elsewhere;
        empty where the campaign does not serve it."""
        catalogue = await self.inventory.catalogue()
        return parts_of(postcode, catalogue.postcodes.get(postcode, ()))

    async def check(
        self, birth_date: str, postcode: str, district: str | None = None
    ) -> EligibilityAnswer:
        """`district` names the person's district where the postcode spans several."""
        now = self.clock.now()
        today = local_day(now)
        errors: dict[str, str] = {}
        born = check_birth_date(birth_date.strip(), today, "birth_date", errors)
        postcode = postcode.strip()
        if not (len(postcode) == 5 and postcode.isascii() and postcode.isdigit()):
            errors["postcode"] = "a postcode has five digits, like 48231"
        if errors or born is None:
            field, message = next(iter(errors.items()))
            raise InvalidInput(f"{field}: {message}", code="invalid_input", fields=errors)
        catalogue = await self.inventory.catalogue()
        parts = parts_of(postcode, catalogue.postcodes.get(postcode, ()))
        if not parts:
            raise refuse_outside(postcode, outside(postcode))
        part = choose_part(postcode, parts, district)
        if part.district_id is None:
            raise refuse_outside(postcode, part.area)
        district_id = part.district_id
        district, region_id = catalogue.districts[district_id]
        decision = decide(
            cohorts=catalogue.cohorts,
            vaccines=list(catalogue.vaccines.values()),
            centres=list(catalogue.centres.values()),
            birth_date=born,
            district_id=district_id,
            region_id=region_id,
            now=now,
            today=today,
            window=(catalogue.campaign.booking_from, catalogue.campaign.booking_until),
        )
        names = [catalogue.centres[i].name for i in decision.centres]
        return EligibilityAnswer(decision, names, district, district_id)


async def load_postcodes(db: Database, *, seeded_districts_only: bool = False) -> int:
    """Replace the campaign's postcodes by the packaged table of Westfalen-Lippe; the number
    of rows. Every district the table names must exist, unless `seeded_districts_only` (a
    demo seeded with fewer centres), which loads the postcodes of the districts there are."""
    rows = served_rows()
    async with db.write() as conn:
        if seeded_districts_only:
            names = set((await conn.execute(select(districts.c.name))).scalars())
            rows = [r for r in rows if r.name in names]
        loaded = await replace_postcodes(conn, rows)
        await catalogue_version.bump(conn)  # every server process reads them anew
        return loaded
