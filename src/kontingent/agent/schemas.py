"""Wire formats of the hotline's endpoints (names fixed by API.md, "Hotline agents").

A booking's body is the citizens' (`POST /api/v1/bookings`), but each person's `phone` is the
caller's number, landline or mobile; the answer is the booking with its `channel`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from kontingent.agent.offers import AgentOffers, CentreOffers
from kontingent.booking.model import MAX_PERSONS
from kontingent.booking.schemas import BookingOut, Id, PersonIn, VaccineChosen
from kontingent.booking.service import MAX_SLOT_IDS, BookingView, address
from kontingent.inventory.schemas import OfferOut, maybe_berlin
from kontingent.verification.model import CALLER_PHONE_PATTERN, PHONE_MAX_LENGTH
from kontingent.verification.schemas import Language
from kontingent.wire import words

CallerPhone = Annotated[
    str,
    msgspec.Meta(
        pattern=CALLER_PHONE_PATTERN,
        max_length=PHONE_MAX_LENGTH,
        description=words(CALLER_PHONE_PATTERN),
    ),
]
SlotIds = Annotated[list[Id], msgspec.Meta(min_length=1, max_length=MAX_SLOT_IDS)]


class CallerIn(PersonIn, forbid_unknown_fields=True):
    # The first person's is the caller's number (required there); others default to it.
    phone: CallerPhone | None = None


class AgentBookingIn(msgspec.Struct, forbid_unknown_fields=True):
    """`BookingIn` with callers' numbers (the citizens' type takes mobile numbers only)."""

    persons: Annotated[list[CallerIn], msgspec.Meta(min_length=1, max_length=MAX_PERSONS)]
    slot_ids: SlotIds
    language: Language = "de"
    vaccine: VaccineChosen | None = None


class RebookIn(msgspec.Struct, forbid_unknown_fields=True):
    slot_ids: SlotIds


class AgentBookingOut(BookingOut):
    channel: str = "web"  # web, phone

    @classmethod
    def of(cls, view: BookingView) -> AgentBookingOut:
        base = BookingOut.of(view)
        return cls(**msgspec.structs.asdict(base), channel=view.channel)


class AgentCentreOut(msgspec.Struct):
    centre_id: int
    name: str
    address: str
    district: str
    distance_km: float | None  # null: the caller's home district's centre
    vaccine: str
    offers: list[OfferOut]

    @classmethod
    def of(cls, item: CentreOffers) -> AgentCentreOut:
        c = item.centre
        return cls(
            c.id, c.name, address(c), c.district, item.distance_km, item.vaccine, item.offers
        )  # fmt: skip


class AgentOffersOut(msgspec.Struct):
    eligible: bool
    reasons: list[str]
    district: str
    vaccine: str | None
    vaccines: list[str]
    opens_at: datetime | None  # not eligible yet: when the caller's cohort opens
    centres: list[AgentCentreOut]

    @classmethod
    def of(cls, found: AgentOffers) -> AgentOffersOut:
        return cls(
            found.eligible, found.reasons, found.district, found.vaccine, found.vaccines,
            maybe_berlin(found.opens_at),
            [AgentCentreOut.of(c) for c in found.centres],
        )  # fmt: skip
