"""Wire formats of the eligibility check (names fixed by API.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

Short = Annotated[str, msgspec.Meta(max_length=40)]


class EligibilityIn(msgspec.Struct, forbid_unknown_fields=True):
    birth_date: Short
    postcode: Short


class FirstDoseDaysOut(msgspec.Struct):
    """Days on which this person may take a first dose of `vaccine` (both included): their
    age on the first dose's day decides, so a birthday may move `first_day` past today."""

    vaccine: str
    first_day: date
    last_day: date


class EligibilityOut(msgspec.Struct):
    eligible: bool
    vaccines: list[str]
    centres: list[str]
    opens_at: datetime | None
    reasons: list[str]
    centre_ids: list[int]
    district: str
    first_dose_days: list[FirstDoseDaysOut] = msgspec.field(default_factory=list)
