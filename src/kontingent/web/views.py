"""What the pages show, built from the services' answers: offers by centre, and bookings.

Invariants kept here:
- An offer is always shown with all its dates together (first and second dose), never a first
  dose alone; its key carries exactly the slot ids the booking service needs.
- The home district's centre comes first; other centres follow nearest first, and only those
  the person may book at and that have free offers for the persons asked for.
- A booking's door ticket (its QR code) is drawn only for a booking that is still booked, and
  its text alternative spells the booking code for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from markupsafe import Markup

from kontingent.booking.service import BookingView
from kontingent.checkin import drawing
from kontingent.checkin.model import sign_ticket
from kontingent.eligibility.model import window_days
from kontingent.eligibility.service import EligibilityAnswer
from kontingent.i18n import N_, Translator, phone_display
from kontingent.inventory.model import (
    Centre,
    Offer,
    Vaccine,
    distance_km,
    local_day,
)
from kontingent.inventory.pairing import DayRanges, OfferWish
from kontingent.inventory.repository import Catalogue
from kontingent.inventory.service import Inventory

HOME_OFFERS = 5
DAY_OFFERS = 8  # on a chosen day: its times, enough to pick from without a long page
OTHER_CENTRES = 3
OTHER_OFFERS = 3


@dataclass(frozen=True, slots=True)
class DoseLine:
    label: str
    when: str
    short: str  # the date on one line of a phone (portal.css shows one or the other)


@dataclass(frozen=True, slots=True)
class DoorTicket:
    """The QR code shown at the centre's door: inline SVG, and what a screen reader says."""

    svg: Markup
    label: str


def door_ticket(view: BookingView, secret: str, t: Translator) -> DoorTicket | None:
    """The booking's QR code, or None when there is nothing left to show at a door."""
    if view.status != "booked":
        return None
    # segno's own markup; the only data in it is the ticket, of [0-9A-Z:-] alone.
    svg = Markup(drawing.svg(sign_ticket(secret, view.code)))  # noqa: S704
    return DoorTicket(svg, t("qr.label", letters=spelled(view.code)))


def spelled(code: str) -> str:
    """A booking code letter by letter, so that a screen reader says each one."""
    return " ".join(code.replace("-", ""))


@dataclass(frozen=True, slots=True)
class OfferCard:
    key: str
    doses: list[DoseLine]
    dates: str  # vaccine and all dates in one line, for the button's accessible name
    vaccine: str = ""  # its name: every offer says which vaccine it books


@dataclass(frozen=True, slots=True)
class CentreCard:
    id: int
    title: str
    address: str
    distance: str
    offers: list[OfferCard]
    next_release: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    centres: list[CentreCard]
    nothing_free: bool
    next_release: str | None
    home_id: int


@dataclass(frozen=True, slots=True)
class PersonCard:
    name: str
    appointments: list[DoseLine] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BookingCard:
    code: str
    status: str
    status_text: str
    centre: str
    address: str
    vaccine: str
    people: list[PersonCard]
    phone: str
    emails: str


@dataclass(frozen=True, slots=True)
class When:
    """When the first dose should be: a day and part of day, or the first day to look from."""

    day: date | None = None
    part: str | None = None
    since: date | None = None


ANY_DAY = When()


STATUS_TEXT = {"booked": N_("status.booked"), "cancelled": N_("status.cancelled")}


def address_of(centre: Centre) -> str:
    street = f"{centre.street}, " if centre.street else ""
    return f"{street}{centre.postcode} {centre.city}"


def dose_label(dose: int, doses: int, t: Translator) -> str:
    if doses == 1:
        return t("dose.single")
    return t("dose.first") if dose == 1 else t("dose.second")


def dose_lines(starts: Sequence[datetime], doses: int, t: Translator) -> list[DoseLine]:
    """One line per dose, in time order; the persons of an offer share each slot."""
    return [
        DoseLine(dose_label(i, doses, t), t.when(at), t.when_short(at))
        for i, at in enumerate(sorted(set(starts)), start=1)
    ]


def offer_card(offer: Offer, vaccine: Vaccine, t: Translator) -> OfferCard:
    lines = dose_lines([a.starts_at for a in offer.appointments], vaccine.doses, t)
    dates = "; ".join([vaccine.name, *(f"{d.label} {d.when}" for d in lines)])
    return OfferCard("-".join(str(i) for i in offer.slot_ids), lines, dates, vaccine.name)


def intro_key(vaccine: Vaccine) -> str:
    """The offers page's lead: a one-dose vaccine's offers hold one appointment, not both."""
    return N_("choose.intro") if vaccine.doses > 1 else N_("choose.intro.one")


def home_centre(
    catalogue: Catalogue, district: int | None, allowed: Sequence[int], first: int | None = None
) -> Centre:
    """`first` when the person may book there (a waitlist SMS's link names it), else the
    centre of the person's own district, else the first centre they may book at."""
    if first is not None and first in allowed and first in catalogue.centres:
        return catalogue.centres[first]
    for centre in catalogue.centres.values():
        if centre.district_id == district:
            return centre
    return catalogue.centres[allowed[0]]


def first_dose_limit(
    catalogue: Catalogue, answer: EligibilityAnswer, vaccine_code: str, now: datetime
) -> DayRanges | None:
    """The first-dose days to keep to, or None when they are every day a first dose can be
    booked at all (today to the window's end): the common case, which needs no filter and
    shares one memo entry for everybody."""
    days = answer.decision.first_dose_days.get(vaccine_code, ())
    campaign = catalogue.campaign
    bookable = window_days(campaign.booking_from, campaign.booking_until, local_day(now))
    return None if days == (bookable,) else tuple((r.first, r.last) for r in days)


def from_day(days: DayRanges | None, since: date) -> DayRanges:
    """The first-dose day ranges cut to start at `since` (None: every day, so from `since`)."""
    if days is None:
        return ((since, date.max),)
    return tuple((max(a, since), b) for a, b in days if b >= since)


async def _offers(
    inventory: Inventory, catalogue: Catalogue, centre: Centre, vaccine: Vaccine, wish: OfferWish
) -> tuple[list[Offer], datetime | None]:
    if not inventory.vaccine_open(catalogue, vaccine.code):
        return [], None
    return await inventory.find(catalogue, centre, vaccine, wish)


async def choice(
    inventory: Inventory,
    answer: EligibilityAnswer,
    vaccine_code: str,
    persons: int,
    t: Translator,
    *,
    first_centre: int | None = None,
    exclude: frozenset[int] = frozenset(),
    when: When = ANY_DAY,
) -> Choice:
    """The home centre's offers first (or `first_centre`'s, see home_centre), then the nearest
    allowed centres with free offers. `exclude`: slots the person holds already (a
    rebooking), so no offer starts with an appointment they have. `when`: a chosen day and
    part of day (more offers at home then: they are that day's times), or the first day to
    look from (a later week paged to)."""
    catalogue = await inventory.catalogue()
    vaccine = catalogue.vaccines[vaccine_code]
    allowed = answer.decision.centres
    days = first_dose_limit(catalogue, answer, vaccine_code, inventory.clock.now())
    days = from_day(days, when.since) if when.since else days
    home = home_centre(catalogue, answer.district_id, allowed, first_centre)
    own = home.district_id == answer.district_id
    home_limit = DAY_OFFERS if when.day else HOME_OFFERS
    wish = OfferWish(persons, home_limit + len(exclude), when.day, when.part, days)
    offers, release = await _offers(inventory, catalogue, home, vaccine, wish)
    cards = [
        CentreCard(
            home.id,
            t("choose.home", name=home.name) if own else home.name,
            address_of(home),
            "",
            [offer_card(o, vaccine, t) for o in _without(offers, exclude, home_limit)],
            t.at(release) if release else None,
        )
    ]
    releases = [release]
    others = sorted(
        (catalogue.centres[c] for c in allowed if c != home.id),
        key=lambda c: distance_km(home.lat, home.lon, c.lat, c.lon),
    )
    for other in others:
        if len(cards) > OTHER_CENTRES:
            break
        wish = OfferWish(persons, OTHER_OFFERS + len(exclude), when.day, when.part, days)
        found, later = await _offers(inventory, catalogue, other, vaccine, wish)
        found = _without(found, exclude, OTHER_OFFERS)
        releases.append(later)
        if found:
            km = distance_km(home.lat, home.lon, other.lat, other.lon)
            cards.append(
                CentreCard(
                    other.id,
                    other.name,
                    address_of(other),
                    t("choose.distance", km=t.km(km)),
                    [offer_card(o, vaccine, t) for o in found],
                )
            )
    nothing = not any(c.offers for c in cards)
    # When nothing is free anywhere every allowed centre was read: the earliest release wins.
    first = min((r for r in releases if r is not None), default=None) if nothing else None
    return Choice(cards, nothing, t.at(first) if first else None, home.id)


def _without(offers: Sequence[Offer], exclude: frozenset[int], limit: int) -> list[Offer]:
    """The first `limit` offers whose first appointment is none of the `exclude`d slots (a
    second dose may stay where it is: a rebooking moves only what differs)."""
    return [o for o in offers if not exclude.intersection(_firsts(o))][:limit]


def _firsts(offer: Offer) -> list[int]:
    return [a.slot_id for a in offer.appointments if a.dose == 1]


def booking_card(view: BookingView, catalogue: Catalogue, t: Translator) -> BookingCard:
    centre = catalogue.centres[view.centre_id]
    vaccine = catalogue.vaccines[view.vaccine]
    people = []
    for i, person in enumerate(view.persons):
        starts = [a.starts_at for a in view.appointments if a.person == i]
        people.append(
            PersonCard(
                f"{person.first_name} {person.last_name}", dose_lines(starts, vaccine.doses, t)
            )
        )
    emails = list(dict.fromkeys(p.email for p in view.persons if p.email))
    return BookingCard(
        code=view.code,
        status=view.status,
        status_text=t(STATUS_TEXT[view.status]),
        centre=centre.name,
        address=address_of(centre),
        vaccine=vaccine.name,
        people=people,
        phone=phone_display(view.persons[0].phone if view.persons else ""),
        emails=t.join(emails),
    )
