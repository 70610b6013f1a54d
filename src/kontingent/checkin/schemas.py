"""Wire formats of the check-in (names fixed by API.md, "Centre staff")."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from kontingent.checkin.model import MAX_TICKET_LENGTH, Arrival
from kontingent.checkin.service import CheckedIn
from kontingent.clock import BERLIN


class CheckinIn(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly one of `code` (as typed) and `qr` (the QR code's text, as a scanner types it)."""

    code: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    qr: Annotated[str, msgspec.Meta(max_length=MAX_TICKET_LENGTH * 2)] | None = None


class ArrivalOut(msgspec.Struct):
    appointment_id: int
    start: datetime
    dose: int
    first_name: str
    last_name: str
    status: str

    @classmethod
    def of(cls, a: Arrival) -> ArrivalOut:
        start = a.starts_at.astimezone(BERLIN)
        return cls(a.appointment_id, start, a.dose, a.first_name, a.last_name, a.status)


class CheckinOut(msgspec.Struct):
    appointment_id: int  # the first of `appointments` (a couple has one each)
    status: str  # "checked_in"
    code: str
    centre_id: int
    already: bool  # true: every appointment was checked in before; nothing changed
    appointments: list[ArrivalOut]

    @classmethod
    def of(cls, done: CheckedIn) -> CheckinOut:
        arrivals = [ArrivalOut.of(a) for a in done.appointments]
        first = arrivals[0]
        return cls(
            first.appointment_id, "checked_in", done.code, done.centre_id, done.already, arrivals
        )
