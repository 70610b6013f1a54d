"""Wire formats of `/api/v1/admin/cohorts` (names fixed by API.md, "Administration").

Times come with their offset and leave in Europe/Berlin; `opens_at` is a whole minute. A
PATCH names only the fields it changes; `"max_age": null` removes the upper age limit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from kontingent.admin.cohorts_model import CohortRule
from kontingent.admin.vaccines_schemas import Age, Code, Name
from kontingent.inventory.schemas import berlin

Vaccines = Annotated[list[Code], msgspec.Meta(min_length=1, max_length=20)]
Opening = Annotated[
    datetime,
    msgspec.Meta(
        tz=True, description="a whole minute with its offset, like 2021-04-06T08:00+02:00"
    ),
]
DistrictRule = Literal["own", "region"]


class CohortIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    min_age: Age
    vaccines: Vaccines
    opens_at: Opening
    max_age: Age | None = None
    district_rule: DistrictRule = "own"

    def rule(self) -> CohortRule:
        return CohortRule(
            self.name, self.min_age, self.max_age, frozenset(self.vaccines), self.opens_at,
            self.district_rule,
        )  # fmt: skip


class CohortPatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    min_age: Age | UnsetType = UNSET
    max_age: Age | UnsetType | None = UNSET
    vaccines: Vaccines | UnsetType = UNSET
    opens_at: Opening | UnsetType = UNSET
    district_rule: DistrictRule | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        found = {k: v for k, v in msgspec.structs.asdict(self).items() if v is not UNSET}
        if "vaccines" in found:
            found["vaccines"] = frozenset(found["vaccines"])
        return found


class CohortOut(msgspec.Struct):
    id: int
    name: str
    min_age: int
    max_age: int | None
    vaccines: list[str]
    opens_at: datetime
    district_rule: str
    open: bool  # whether it is open now

    @classmethod
    def of(cls, cohort_id: int, rule: CohortRule, now: datetime) -> CohortOut:
        return cls(
            cohort_id, rule.name, rule.min_age, rule.max_age, sorted(rule.vaccines),
            berlin(rule.opens_at), rule.district_rule, rule.opens_at <= now,
        )  # fmt: skip


class CohortList(msgspec.Struct):
    items: list[CohortOut]
