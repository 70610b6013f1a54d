"""The eligibility check: birth date and postcode in, what this person may book out."""

from __future__ import annotations

from dataclasses import dataclass

from kontingent.booking.people import check_birth_date
from kontingent.clock import Clock
from kontingent.eligibility.model import Decision, decide
from kontingent.errors import InvalidInput
from kontingent.inventory.model import local_day
from kontingent.inventory.service import Inventory


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    decision: Decision
    centre_names: list[str]
    district: str


class Eligibility:
    def __init__(self, inventory: Inventory, clock: Clock) -> None:
        self.inventory = inventory
        self.clock = clock

    async def check(self, birth_date: str, postcode: str) -> EligibilityAnswer:
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
        district_id = catalogue.postcodes.get(postcode)
        if district_id is None:
            raise InvalidInput(
                f"postcode {postcode} is not served by this campaign's centres: check it, or "
                "ask the hotline",
                code="unknown_postcode",
                field="postcode",
            )
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
        return EligibilityAnswer(decision, names, district)
