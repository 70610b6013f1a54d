"""What the console's pages show, built from the use cases' answers.

Invariants kept here:
- A booking is shown with everything the caller may ask about: each person's name, birth
  date, address, e-mail, the number it is booked under, and each appointment; its code comes
  with the words to spell it in the page's language (agent/model.py).
- An offer always shows all its dates side by side (first and second dose), never one alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kontingent.agent.model import Spelled, spell
from kontingent.agent.service import AgentOffers
from kontingent.booking.service import BookingView
from kontingent.i18n import Translator
from kontingent.inventory.repository import Catalogue
from kontingent.web.views import BookingCard, DoseLine, address_of, booking_card, dose_lines


@dataclass(frozen=True, slots=True)
class PersonLines:
    name: str
    birth_date: str
    address: str
    email: str


@dataclass(frozen=True, slots=True)
class BookingScreen:
    card: BookingCard
    persons: list[PersonLines]
    spelled: list[list[Spelled]]  # the code's symbols, group by group
    cancellable: bool


def spelled_groups(code: str, lang: str) -> list[list[Spelled]]:
    groups: list[list[Spelled]] = []
    for item in spell(code, lang):
        if item.group == len(groups):
            groups.append([])
        groups[item.group].append(item)
    return groups


def booking_screen(view: BookingView, catalogue: Catalogue, t: Translator) -> BookingScreen:
    persons = [
        PersonLines(
            f"{p.first_name} {p.last_name}",
            t.birth_date(p.birth_date),
            f"{p.street} {p.house_number}, {p.postcode} {p.city}",
            p.email or "",
        )
        for p in view.persons
    ]
    card = booking_card(view, catalogue, t)
    return BookingScreen(card, persons, spelled_groups(view.code, t.lang), view.status == "booked")


@dataclass(frozen=True, slots=True)
class PairCard:
    """One offer: all its dates side by side, and the key of its slots (`12-12-40-40`)."""

    key: str
    doses: list[DoseLine]
    dates: str  # the dates in one line, for the button's accessible name


@dataclass(frozen=True, slots=True)
class CentreChoice:
    id: int
    name: str
    address: str
    distance: str  # "" for the home district's centre
    home: bool
    vaccine: str  # its code, booked with the offer
    offers: list[PairCard]


def pair_card(appointments: Sequence[Any], doses: int, t: Translator) -> PairCard:
    lines = dose_lines([a.start for a in appointments], doses, t)
    key = "-".join(str(a.slot_id) for a in appointments)
    return PairCard(key, lines, "; ".join(f"{d.label} {d.when}" for d in lines))


def centre_choices(found: AgentOffers, catalogue: Catalogue, t: Translator) -> list[CentreChoice]:
    """The centres as the use case orders them (home district first, then nearest)."""
    choices = []
    for item in found.centres:
        centre = catalogue.centres[item.centre.id]
        doses = catalogue.vaccines[item.vaccine].doses
        home = centre.district_id == catalogue.centres[found.centres[0].centre.id].district_id
        km = item.distance_km
        choices.append(
            CentreChoice(
                centre.id, centre.name, address_of(centre),
                t("choose.distance", km=t.km(km)) if km else "",
                home and km is None, item.vaccine,
                [pair_card(o.appointments, doses, t) for o in item.offers],
            )
        )  # fmt: skip
    return choices
