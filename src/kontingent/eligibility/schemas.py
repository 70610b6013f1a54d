"""Wire formats of the eligibility check (names fixed by API.md).

The birth date is a date and the postcode five digits, as the service checks them, so the
OpenAPI document is as strict as the code; whether a date lies in the future, or a postcode in
the campaign's area, only the service can tell.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from kontingent.booking.people import POSTCODE_PATTERN
from kontingent.wire import words

Postcode = Annotated[
    str, msgspec.Meta(pattern=POSTCODE_PATTERN, max_length=5, description=words(POSTCODE_PATTERN))
]


District = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=100,
        description="where the postcode spans districts: the one the person lives in, as "
        "`details.places[].district` of the `place_needed` refusal names it",
    ),
]


class EligibilityIn(msgspec.Struct, forbid_unknown_fields=True):
    birth_date: date
    postcode: Postcode
    district: District | None = None


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
