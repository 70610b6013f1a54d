"""Wire formats of reference data, offers and availability (names fixed by API.md)."""

from __future__ import annotations

from datetime import date, datetime

import msgspec

from kontingent.clock import BERLIN
from kontingent.inventory.model import Centre, Offer, Vaccine


def berlin(at: datetime) -> datetime:
    """Times leave the service in Europe/Berlin with their offset."""
    return at.astimezone(BERLIN)


def maybe_berlin(at: datetime | None) -> datetime | None:
    return None if at is None else at.astimezone(BERLIN)


class CentreOut(msgspec.Struct):
    id: int
    name: str
    district: str
    postcode: str
    city: str
    lat: float
    lon: float
    street: str

    @classmethod
    def of(cls, c: Centre) -> CentreOut:
        return cls(c.id, c.name, c.district, c.postcode, c.city, c.lat, c.lon, c.street)


class VaccineOut(msgspec.Struct):
    code: str
    name: str
    doses: int
    interval_min_days: int
    interval_max_days: int
    min_age: int | None
    max_age: int | None

    @classmethod
    def of(cls, v: Vaccine) -> VaccineOut:
        return cls(
            v.code, v.name, v.doses, v.interval_min_days, v.interval_max_days, v.min_age, v.max_age
        )


class AppointmentOut(msgspec.Struct):
    slot_id: int
    start: datetime
    dose: int
    person: int


class OfferOut(msgspec.Struct):
    appointments: list[AppointmentOut]

    @classmethod
    def of(cls, offer: Offer) -> OfferOut:
        return cls(
            [
                AppointmentOut(a.slot_id, a.starts_at.astimezone(BERLIN), a.dose, a.person)
                for a in offer.appointments
            ]
        )


class AlternativeOut(msgspec.Struct):
    centre_id: int
    name: str
    distance_km: float
    free_offers: int


class OffersOut(msgspec.Struct):
    centre: CentreOut
    vaccine: VaccineOut
    offers: list[OfferOut]
    next_release_at: datetime | None
    alternatives: list[AlternativeOut]


class AvailabilityOut(msgspec.Struct):
    centre_id: int
    centre: str
    vaccine: str
    free_offers: int  # offers for one person that could all be booked at once
    free_seats: int
    first_free_day: date | None
    next_release_at: datetime | None


class SlotOut(msgspec.Struct):
    slot_id: int
    centre_id: int
    vaccine: str
    start: datetime
    capacity: int
    booked: int


class DayOut(msgspec.Struct):
    day: date
    # free, full (booked out), closed (a public holiday), past, too_soon (the lead time),
    # not_bookable (outside the campaign)
    state: str
    free: int  # pairs (one-dose vaccines: appointments) with the first dose this day


class DaysOut(msgspec.Struct):
    """One week (Monday to Sunday) of first-dose days at a centre, for one or two persons."""

    centre_id: int
    vaccine: str
    persons: int
    week: date  # its Monday
    previous_week: date | None  # None: this week holds today
    next_week: date | None  # None: the last week offered (31 days ahead)
    days: list[DayOut]
