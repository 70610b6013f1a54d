"""Wire formats of the centre console's API (names fixed by API.md, "Centre staff")."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from kontingent.centre.model import BATCH_MAX, Visit
from kontingent.centre.service import Missed
from kontingent.clock import BERLIN


class VisitOut(msgspec.Struct):
    appointment_id: int
    start: datetime  # Berlin time, with its offset
    dose: int
    code: str
    first_name: str
    last_name: str
    birth_date: date | None  # null once the person's data was deleted (retention)
    status: str  # booked | checked_in | vaccinated | no_show
    vaccine: str
    batch: str | None

    @classmethod
    def of(cls, v: Visit) -> VisitOut:
        return cls(
            v.appointment_id, v.starts_at.astimezone(BERLIN), v.dose, v.code, v.first_name,
            v.last_name, v.birth_date, v.status, v.vaccine, v.batch,
        )  # fmt: skip


class VaccinatedIn(msgspec.Struct, forbid_unknown_fields=True):
    """The batch number (Chargennummer) of the dose given: 3 to 20 letters, digits or `-`."""

    batch: Annotated[str, msgspec.Meta(max_length=BATCH_MAX * 2)]


class NoShowIn(msgspec.Struct, forbid_unknown_fields=True):
    """`free_second_dose`: also let the person's booked second-dose appointment go (its seat
    is bookable at once); only for a first dose, and only when the person said so."""

    free_second_dose: bool = False


class NoShowsIn(msgspec.Struct, forbid_unknown_fields=True):
    """Everyone of `date` not checked in whose appointment began."""

    date: date
    free_second_doses: bool = False


class NoShowOut(msgspec.Struct):
    no_show: list[int]  # the appointments marked
    freed: list[int]  # second-dose appointments let go

    @classmethod
    def of(cls, missed: Missed) -> NoShowOut:
        return cls(missed.no_show, missed.freed)
