"""Wire formats of bookings (names fixed by API.md).

Person fields are typed loosely on purpose (optional strings): the booking service checks them
all at once and answers with one message per field in plain words.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from kontingent.booking.service import BookingView
from kontingent.clock import BERLIN

Text = Annotated[str, msgspec.Meta(max_length=300)]


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    first_name: Text | None = None
    last_name: Text | None = None
    birth_date: Text | None = None
    postcode: Text | None = None
    city: Text | None = None
    street: Text | None = None
    house_number: Text | None = None
    phone: Text | None = None
    email: Text | None = None


class BookingIn(msgspec.Struct, forbid_unknown_fields=True):
    persons: Annotated[list[PersonIn], msgspec.Meta(min_length=1, max_length=2)]
    slot_ids: Annotated[
        list[Annotated[int, msgspec.Meta(ge=1)]], msgspec.Meta(min_length=1, max_length=8)
    ]


class BirthDateIn(msgspec.Struct, forbid_unknown_fields=True):
    """The secret that goes with a booking code, in the body: a query string lands in logs."""

    birth_date: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=20,
            description="a birth date of a person in the booking, YYYY-MM-DD",
            examples=["1939-05-01"],
        ),
    ]


class PersonOut(msgspec.Struct):
    first_name: str
    last_name: str
    birth_date: date
    postcode: str
    city: str
    street: str
    house_number: str
    phone: str
    email: str | None


class BookedAppointmentOut(msgspec.Struct):
    slot_id: int
    start: datetime
    dose: int
    centre_id: int
    person: int


class BookingOut(msgspec.Struct):
    code: str
    status: str
    vaccine: str
    centre_id: int
    persons: list[PersonOut]
    appointments: list[BookedAppointmentOut]

    @classmethod
    def of(cls, view: BookingView) -> BookingOut:
        return cls(
            code=view.code,
            status=view.status,
            vaccine=view.vaccine,
            centre_id=view.centre_id,
            persons=[
                # Field by field: dataclasses.asdict deep-copies every value on the hot path.
                PersonOut(
                    p.first_name,
                    p.last_name,
                    p.birth_date,
                    p.postcode,
                    p.city,
                    p.street,
                    p.house_number,
                    p.phone,
                    p.email,
                )
                for p in view.persons
            ],
            appointments=[
                BookedAppointmentOut(
                    a.slot_id, a.starts_at.astimezone(BERLIN), a.dose, view.centre_id, a.person
                )
                for a in view.appointments
            ],
        )
