"""What the console's pages show, built from the use cases' answers.

Invariants kept here:
- A booking is shown with everything the caller may ask about: each person's name, birth
  date, address, e-mail, the number it is booked under, and each appointment; its code comes
  with the words to spell it in the page's language (agent/model.py).
- An offer always shows all its dates side by side (first and second dose), never one alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from kontingent.agent.model import Spelled, spell
from kontingent.booking.service import BookingView
from kontingent.i18n import Translator
from kontingent.inventory.repository import Catalogue
from kontingent.web.views import BookingCard, booking_card


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
