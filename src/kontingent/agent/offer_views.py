"""The offers screen's cards, built from `AgentDesk.offers`' answer.

Invariants kept here:
- An offer always shows all its dates side by side (first and second dose), never one alone;
  its key carries exactly the slot ids the booking use case takes.
- The centres keep the use case's order: the home district's first, then the nearest.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup

from kontingent.agent.service import AgentOffers
from kontingent.i18n import Translator
from kontingent.inventory.repository import Catalogue
from kontingent.web.views import DoseLine, address_of, dose_lines


@dataclass(frozen=True, slots=True)
class PairCard:
    """One offer: all its dates side by side, and the key of its slots (`12-12-40-40`).
    Shared by every page that shows the offer: never changed."""

    key: str
    doses: tuple[DoseLine, ...]
    dates: str  # the dates in one line, for the button's accessible name
    lines: Markup  # the dates as the `pair_lines` macro (web/templates/macros.html) draws them


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
    slots = tuple((a.slot_id, a.start) for a in appointments)
    return _pair_card(slots, doses, t.lang)


# Kept per offer and language: an offer's slots and their times decide its card, and the
# console's offers page shows the same offers to every agent until they are booked (building
# each card anew was a tenth of the page's CPU, cProfile, issue 15).
@functools.lru_cache(maxsize=8192)
def _pair_card(slots: tuple[tuple[int, datetime], ...], doses: int, lang: str) -> PairCard:
    lines = dose_lines([start for _, start in slots], doses, Translator(lang))
    key = "-".join(str(slot_id) for slot_id, _ in slots)
    dates = "; ".join(f"{d.label} {d.when}" for d in lines)
    return PairCard(key, tuple(lines), dates, pair_lines(lines))


def pair_lines(lines: Sequence[DoseLine]) -> Markup:
    """The `pair_lines` macro's markup, escaped once per card instead of on every page."""
    items = Markup("").join(
        Markup(
            '<li><span class="dose-label">{}</span><br><span class="dose-when">{}</span>'
            '<span class="dose-when-short">{}</span></li>'
        ).format(d.label, d.when, d.short)
        for d in lines
    )
    return Markup('<ul class="doses agent-pair">\n{}\n</ul>').format(items)


def centre_choices(found: AgentOffers, catalogue: Catalogue, t: Translator) -> list[CentreChoice]:
    """The centres in the use case's order (home district's first, then the nearest)."""
    choices = []
    for item in found.centres:
        offers = item.offers
        doses = catalogue.vaccines[item.vaccine].doses
        km = item.distance_km
        choices.append(
            CentreChoice(
                item.centre.id, item.centre.name, address_of(item.centre),
                "" if km is None else t("choose.distance", km=t.km(km)), km is None,
                item.vaccine, [pair_card(o.appointments, doses, t) for o in offers],
            )
        )  # fmt: skip
    return choices
