"""Wire formats of bookings (names fixed by API.md).

Each person field carries the pattern and length the booking service checks (booking/people.py),
so the OpenAPI document is as strict as the code and the decoder refuses what breaks them, in
plain words (kontingent.wire). What no schema can say is still the service's: a birth date in
the future, a postcode outside the campaign, slot ids that are not one offer.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import msgspec

from kontingent.booking.model import MAX_PERSONS
from kontingent.booking.people import (
    CITY_PATTERN,
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    HOUSE_NUMBER_MAX_LENGTH,
    HOUSE_NUMBER_PATTERN,
    NAME_MAX_LENGTH,
    NAME_PATTERN,
    STREET_MAX_LENGTH,
    STREET_PATTERN,
)
from kontingent.booking.service import MAX_SLOT_IDS, BookingView
from kontingent.clock import BERLIN
from kontingent.eligibility.schemas import Postcode
from kontingent.verification.schemas import Language, Phone
from kontingent.wire import words


def _text(pattern: str, max_length: int) -> msgspec.Meta:
    return msgspec.Meta(pattern=pattern, max_length=max_length, description=words(pattern))


Name = Annotated[str, _text(NAME_PATTERN, NAME_MAX_LENGTH)]


class PersonIn(msgspec.Struct, forbid_unknown_fields=True):
    first_name: Name
    last_name: Name
    birth_date: date
    postcode: Postcode
    city: Annotated[str, _text(CITY_PATTERN, NAME_MAX_LENGTH)]
    street: Annotated[str, _text(STREET_PATTERN, STREET_MAX_LENGTH)]
    house_number: Annotated[str, _text(HOUSE_NUMBER_PATTERN, HOUSE_NUMBER_MAX_LENGTH)]
    # Absent: the verified phone and no e-mail.
    phone: Phone | None = None
    email: Annotated[str, _text(EMAIL_PATTERN, EMAIL_MAX_LENGTH)] | None = None

    def as_fields(self) -> dict[str, str]:
        """The person as the booking service reads it: text fields, the absent ones left out."""
        fields = {k: v for k, v in msgspec.structs.asdict(self).items() if v is not None}
        fields["birth_date"] = self.birth_date.isoformat()
        return fields


# Ids are BIGINTs: a larger number is no id, and the database drivers would fail on it.
Id = Annotated[int, msgspec.Meta(ge=1, le=2**63 - 1)]


VaccineChosen = Annotated[
    str,
    msgspec.Meta(max_length=20, description="the vaccine code the person chose, as in the offer"),
]


class BookingIn(msgspec.Struct, forbid_unknown_fields=True):
    persons: Annotated[list[PersonIn], msgspec.Meta(min_length=1, max_length=MAX_PERSONS)]
    slot_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=MAX_SLOT_IDS)]
    language: Language = "de"
    # The vaccine the person chose: slots of another vaccine are refused (422
    # vaccine_mismatch) instead of booked. Absent: the slots' vaccine is booked.
    vaccine: VaccineChosen | None = None


class BirthDateIn(msgspec.Struct, forbid_unknown_fields=True):
    """The secret that goes with a booking code, in the body: a query string lands in logs."""

    birth_date: Annotated[
        date,
        msgspec.Meta(
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
    language: str

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
            language=view.language,
        )
