"""Wire formats of the eligibility check (names fixed by API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Short = Annotated[str, msgspec.Meta(max_length=40)]


class EligibilityIn(msgspec.Struct, forbid_unknown_fields=True):
    birth_date: Short
    postcode: Short


class EligibilityOut(msgspec.Struct):
    eligible: bool
    vaccines: list[str]
    centres: list[str]
    opens_at: datetime | None
    reasons: list[str]
    centre_ids: list[int]
    district: str
