"""Wire formats of the second dose on the spot (`POST /api/v1/staff/second-doses`; the
names `code`, `appointment_id`, `start` and `centre_id` are fixed by API.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from kontingent.centre.spot import SpotBooked, SpotRequest
from kontingent.clock import BERLIN
from kontingent.verification.schemas import Language

Text = Annotated[str, msgspec.Meta(max_length=100)]


class SecondDoseIn(msgspec.Struct, forbid_unknown_fields=True):
    """Either `code` (the booking whose first dose was given today), or the person's data
    with `first_dose_date` (YYYY-MM-DD), `vaccine` (its code) and `centre_id`. `phone`: a
    German mobile number (the SMS goes to it); `email` optional. `language` (de, en): the
    messages' language for a person typed in (a code's booking keeps its own)."""

    code: Annotated[str, msgspec.Meta(max_length=20)] | None = None
    centre_id: Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)] | None = None
    first_name: Text | None = None
    last_name: Text | None = None
    birth_date: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=30)] | None = None
    email: Annotated[str, msgspec.Meta(max_length=254)] | None = None
    first_dose_date: Annotated[str, msgspec.Meta(max_length=10)] | None = None
    vaccine: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    language: Language = "de"

    def request(self) -> SpotRequest:
        return SpotRequest(**msgspec.structs.asdict(self))


class SpotAppointmentOut(msgspec.Struct):
    appointment_id: int
    start: datetime
    dose: int
    first_name: str
    last_name: str


class SecondDoseOut(msgspec.Struct):
    appointment_id: int  # the first of `appointments` (a couple found by code has two)
    start: datetime
    centre_id: int
    code: str  # the new booking's
    vaccine: str
    channel: str  # "on_site"
    language: str
    appointments: list[SpotAppointmentOut]

    @classmethod
    def of(cls, booked: SpotBooked) -> SecondDoseOut:
        view = booked.view
        items = [
            SpotAppointmentOut(
                i,
                a.starts_at.astimezone(BERLIN),
                a.dose,
                view.persons[a.person].first_name,
                view.persons[a.person].last_name,
            )
            for i, a in zip(booked.appointment_ids, view.appointments, strict=True)
        ]
        first = items[0]
        return cls(
            first.appointment_id, first.start, view.centre_id, view.code, view.vaccine,
            view.channel, view.language, items,
        )  # fmt: skip
