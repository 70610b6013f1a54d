"""What the pages show, built from the services' answers: offers by centre, and bookings.

Invariants kept here:
- An offer is always shown with all its dates together (first and second dose), never a first
  dose alone; its key carries exactly the slot ids the booking service needs.
- The home district's centre comes first; other centres follow nearest first, and only those
  the person may book at and that have free offers for the persons asked for.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

from kontingent.booking.service import BookingView
from kontingent.eligibility.model import DayRange, window_days
from kontingent.eligibility.service import EligibilityAnswer
from kontingent.inventory.model import (
    Centre,
    Offer,
    Vaccine,
    distance_km,
    local_day,
    pair_offers,
)
from kontingent.inventory.repository import Catalogue
from kontingent.inventory.service import Availability, Inventory
from kontingent.web.i18n import Translator, phone_display

FirstDoseDays = tuple[DayRange, ...] | None
MemoKey = tuple[int, str, int, int, FirstDoseDays]
MAX_MEMO = 10_000  # entries; a few per centre, vaccine and birthday inside the window
HOME_OFFERS = 5
OTHER_CENTRES = 3
OTHER_OFFERS = 3


@dataclass(frozen=True, slots=True)
class DoseLine:
    label: str
    when: str


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
        DoseLine(dose_label(i, doses, t), t.when(at))
        for i, at in enumerate(sorted(set(starts)), start=1)
    ]


def offer_card(offer: Offer, vaccine: Vaccine, t: Translator) -> OfferCard:
    lines = dose_lines([a.starts_at for a in offer.appointments], vaccine.doses, t)
    dates = "; ".join([vaccine.name, *(f"{d.label} {d.when}" for d in lines)])
    return OfferCard("-".join(str(i) for i in offer.slot_ids), lines, dates, vaccine.name)


def intro_key(vaccine: Vaccine) -> str:
    """The offers page's lead: a one-dose vaccine's offers hold one appointment, not both."""
    return "choose.intro" if vaccine.doses > 1 else "choose.intro.one"


def home_centre(
    catalogue: Catalogue, postcode: str, allowed: Sequence[int], first: int | None = None
) -> Centre:
    """`first` when the person may book there (a waitlist SMS's link names it), else the
    centre of the person's own district, else the first centre they may book at."""
    if first is not None and first in allowed and first in catalogue.centres:
        return catalogue.centres[first]
    district = catalogue.postcodes.get(postcode)
    for centre in catalogue.centres.values():
        if centre.district_id == district:
            return centre
    return catalogue.centres[allowed[0]]


class OfferMemo:
    """Offers computed from one cached availability reading, reused while that reading lasts.

    Pairing thousands of free slots costs milliseconds; the availability cache already decides
    how fresh offers are (and drops an entry when this process books or cancels), so offers
    are recomputed exactly when the reading they came from is replaced, never served staler.
    """

    def __init__(self, inventory: Inventory) -> None:
        self.inventory = inventory
        self._memo: dict[MemoKey, tuple[Availability, list[Offer]]] = {}

    async def offers(
        self,
        catalogue: Catalogue,
        centre_id: int,
        vaccine: Vaccine,
        persons: int,
        limit: int,
        days: FirstDoseDays = None,
    ) -> tuple[list[Offer], datetime | None]:
        """`days`: the first-dose days open to the person (their age on the day decides);
        None for any day. People share a memo entry when their days are the same, which is
        everyone without a birthday into a cohort inside the booking window."""
        if not self.inventory.vaccine_open(catalogue, vaccine.code):
            return [], None
        reading = await self.inventory.availability_of(centre_id, vaccine.code)
        key = (centre_id, vaccine.code, persons, limit, days)
        kept = self._memo.get(key)
        if kept is None or kept[0] is not reading:
            allowed = None if days is None else partial(_on_days, days)
            kept = (reading, pair_offers(reading.free, vaccine, persons, limit, allowed))
            if len(self._memo) >= MAX_MEMO:
                self._memo.clear()
            self._memo[key] = kept
        return kept[1], reading.next_release_at


def _first_dose_limit(
    catalogue: Catalogue, answer: EligibilityAnswer, vaccine_code: str, now: datetime
) -> FirstDoseDays:
    """The first-dose days to keep to, or None when they are every day a first dose can be
    booked at all (today to the window's end): the common case, which needs no filter and
    shares one memo entry for everybody."""
    days = answer.decision.first_dose_days.get(vaccine_code, ())
    campaign = catalogue.campaign
    bookable = window_days(campaign.booking_from, campaign.booking_until, local_day(now))
    return None if days == (bookable,) else days


def _on_days(days: tuple[DayRange, ...], day: date) -> bool:
    return any(day in r for r in days)


_MEMOS: weakref.WeakKeyDictionary[Inventory, OfferMemo] = weakref.WeakKeyDictionary()


def memo_of(inventory: Inventory) -> OfferMemo:
    """The one memo of a process's inventory (it lives and dies with it)."""
    memo = _MEMOS.get(inventory)
    if memo is None:
        memo = _MEMOS[inventory] = OfferMemo(inventory)
    return memo


async def choice(
    inventory: Inventory,
    answer: EligibilityAnswer,
    postcode: str,
    vaccine_code: str,
    persons: int,
    t: Translator,
    *,
    first_centre: int | None = None,
    exclude: frozenset[int] = frozenset(),
) -> Choice:
    """The home centre's offers first (or `first_centre`'s, see home_centre), then the nearest
    allowed centres with free offers. `exclude`: slots the person holds already (a
    rebooking), so no offer starts with an appointment they have."""
    catalogue = await inventory.catalogue()
    memo = memo_of(inventory)
    vaccine = catalogue.vaccines[vaccine_code]
    allowed = answer.decision.centres
    days = _first_dose_limit(catalogue, answer, vaccine_code, inventory.clock.now())
    home = home_centre(catalogue, postcode, allowed, first_centre)
    own = home.district_id == catalogue.postcodes.get(postcode)
    offers, release = await memo.offers(
        catalogue, home.id, vaccine, persons, HOME_OFFERS + len(exclude), days
    )
    cards = [
        CentreCard(
            home.id,
            t("choose.home", name=home.name) if own else home.name,
            address_of(home),
            "",
            [offer_card(o, vaccine, t) for o in _without(offers, exclude, HOME_OFFERS)],
            t.when(release) if release else None,
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
        found, later = await memo.offers(
            catalogue, other.id, vaccine, persons, OTHER_OFFERS + len(exclude), days
        )
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
    return Choice(cards, nothing, t.when(first) if first else None, home.id)


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
        status_text=t(f"status.{view.status}"),
        centre=centre.name,
        address=address_of(centre),
        vaccine=vaccine.name,
        people=people,
        phone=phone_display(view.persons[0].phone if view.persons else ""),
        emails=t.join(emails),
    )
