"""Wire formats of `/api/v1/admin/vaccines` (names as in the `vaccines` table and API.md).

A PATCH names only the fields it changes; `null` clears an optional one (an age limit, the
recommended interval).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, UnsetType

from kontingent.admin.vaccines_model import (
    CODE_PATTERN,
    CODE_TEXT,
    MAX_AGE,
    MAX_INTERVAL_DAYS,
    VaccineRule,
)

Code = Annotated[str, msgspec.Meta(pattern=CODE_PATTERN, description=CODE_TEXT)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Days = Annotated[int, msgspec.Meta(ge=0, le=MAX_INTERVAL_DAYS, description="days")]
Age = Annotated[int, msgspec.Meta(ge=0, le=MAX_AGE, description="years")]
Doses = Literal[1, 2]


class VaccineIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    name: Name
    doses: Doses
    interval_min_days: Days = 0
    interval_max_days: Days = 0
    interval_recommended_days: Days | None = None
    min_age: Age | None = None
    max_age: Age | None = None

    def rule(self) -> VaccineRule:
        return VaccineRule(**msgspec.structs.asdict(self))


class VaccinePatch(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | UnsetType = UNSET
    doses: Doses | UnsetType = UNSET
    interval_min_days: Days | UnsetType = UNSET
    interval_max_days: Days | UnsetType = UNSET
    interval_recommended_days: Days | UnsetType | None = UNSET
    min_age: Age | UnsetType | None = UNSET
    max_age: Age | UnsetType | None = UNSET

    def changes(self) -> dict[str, Any]:
        return {k: v for k, v in msgspec.structs.asdict(self).items() if v is not UNSET}


class VaccineOut(msgspec.Struct):
    code: str
    name: str
    doses: int
    interval_min_days: int
    interval_max_days: int
    interval_recommended_days: int | None
    min_age: int | None
    max_age: int | None

    @classmethod
    def of(cls, rule: VaccineRule) -> VaccineOut:
        return cls(
            rule.code, rule.name, rule.doses, rule.interval_min_days, rule.interval_max_days,
            rule.interval_recommended_days, rule.min_age, rule.max_age,
        )  # fmt: skip


class VaccineList(msgspec.Struct):
    items: list[VaccineOut]
