"""Offers for a caller on the phone: the eligibility answer, then centres with their first
offers, home district's centre first.

Invariants kept here:
- The answer is the portal's own: the eligibility service decides (for a couple, both persons
  must be eligible, and only vaccines, centres and first-dose days open to both count), and
  offers come from the cached offers engine (Inventory.find), a bounded number of reads per
  request whatever the inventory and however many centres the caller may book at: the first
  free days and release minutes of every such centre are one query each (`read_ahead`, kept
  as each centre's own readings), and only the home centre and the nearest centres that have
  a free day are asked for offers, at most MAX_TRIED of them, each answer cached, until
  MAX_NEAREST of them had offers.
- The home district's centre comes first, even without free offers (the agent says so);
  then the nearest other centres the caller may book at that have offers for the persons
  asked for, at most MAX_NEAREST of them.
- Distances are measured from the home district's centre: postcodes carry no coordinates
  (eligibility/postcodes.py holds places, not positions), and a district's centre is the
  place its people know. A caller living at a district's edge may be a few km nearer to a
  neighbour's centre than the figure says.
- Agents see every free seat, those the phone share keeps for the hotline included
  (`phone=True`); the public offers never show those.
- For a rebooking (`held`), the booking's own seats count as free, as the rebooking frees them
  in its own transaction (inventory/offers.py `WithHeld`): an agent can move the caller
  within a day booked out but for the caller's own seats, and the booking's centre first
  offers up to KEPT_FIRST moves that keep the first dose and move the second elsewhere; the
  offer the booking already holds is not offered.
- Offers hold no personal data: reading them is not audited (limited per agent instead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial

from kontingent.eligibility.model import DayRange, window_days
from kontingent.eligibility.service import Eligibility, EligibilityAnswer
from kontingent.errors import InvalidInput
from kontingent.inventory.model import Centre, FreeSlot, Offer, Vaccine, distance_km, local_day
from kontingent.inventory.offers import HeldSeats, second_dose_moves
from kontingent.inventory.pairing import DayRanges, OfferWish
from kontingent.inventory.reads import read_ahead
from kontingent.inventory.repository import Catalogue
from kontingent.inventory.schemas import OfferOut
from kontingent.inventory.service import Inventory
from kontingent.web.views import home_centre

MAX_NEAREST = 5  # other centres with offers shown after the home district's
MAX_TRIED = 12  # centres with a free day asked for offers at most, the home centre included
HOME_OFFERS = 5
OTHER_OFFERS = 3
KEPT_FIRST = 2  # a rebooking's offers that keep the first dose and move the second, at most


@dataclass(frozen=True, slots=True)
class OfferQuery:
    birth_date: date
    postcode: str
    persons: int = 1
    vaccine: str | None = None
    partner_birth_date: date | None = None  # a couple: the second person's
    day: date | None = None  # first doses on this day only
    part: str | None = None  # morning, afternoon or evening (inventory/pairing.py)
    district: str | None = None  # where the postcode spans districts: the caller's
    held: HeldSeats | None = None  # a rebooking: the booking's own seats, counted as free


@dataclass(frozen=True, slots=True)
class CentreOffers:
    centre: Centre
    distance_km: float | None  # None: the home district's centre
    vaccine: str
    offers: list[OfferOut]  # appointments (slot_id, start, dose, person), all doses


@dataclass(frozen=True, slots=True)
class AgentOffers:
    eligible: bool
    reasons: list[str]  # the eligibility service's words, why not (empty when eligible)
    vaccine: str | None  # the vaccine offered; None when not eligible
    district: str  # the caller's district
    centres: list[CentreOffers] = field(default_factory=list)
    vaccines: list[str] = field(default_factory=list)  # every vaccine open to the caller(s)
    opens_at: datetime | None = None  # not eligible yet: when the caller's cohort opens


async def find_offers(
    eligibility: Eligibility, inventory: Inventory, query: OfferQuery
) -> AgentOffers:
    _check_persons(query)
    answers = [await _check(eligibility, query, query.birth_date)]
    if query.persons == 2 and query.partner_birth_date is not None:
        answers.append(await _check(eligibility, query, query.partner_birth_date))
    first = answers[0]
    refused = [a for a in answers if not a.decision.eligible]
    if refused:
        reasons = [r for a in refused for r in a.decision.reasons]
        opens = [a.decision.opens_at for a in refused if a.decision.opens_at is not None]
        return AgentOffers(False, reasons, None, first.district, opens_at=max(opens, default=None))
    vaccines = [
        v for v in first.decision.vaccines if all(v in a.decision.vaccines for a in answers)
    ]
    if not vaccines:
        return AgentOffers(False, [_NO_COMMON_VACCINE], None, first.district)
    catalogue = await inventory.catalogue()
    vaccine = _chosen(catalogue, vaccines, query.vaccine)
    allowed = [c for c in first.decision.centres if all(c in a.decision.centres for a in answers)]
    days = _first_days(catalogue, answers, vaccine.code, inventory.clock.now())
    centres = await _centres(inventory, catalogue, first, allowed, vaccine, query, days)
    return AgentOffers(True, [], vaccine.code, first.district, centres, vaccines)


_NO_COMMON_VACCINE = "no vaccine is open to both persons now: book them one by one"


def _check_persons(query: OfferQuery) -> None:
    if query.persons not in (1, 2):
        raise InvalidInput("persons is 1 or 2", code="invalid_persons", field="persons")
    if query.partner_birth_date is not None and query.persons != 2:
        raise InvalidInput(
            "partner_birth_date is for a couple: send persons=2 with it",
            code="invalid_persons",
            field="persons",
        )


async def _check(eligibility: Eligibility, query: OfferQuery, born: date) -> EligibilityAnswer:
    return await eligibility.check(born.isoformat(), query.postcode, query.district)


def _chosen(catalogue: Catalogue, open_to: Sequence[str], wanted: str | None) -> Vaccine:
    """The vaccine asked for when it is open to the caller(s), else the first one open."""
    if wanted is None:
        return catalogue.vaccines[open_to[0]]
    if wanted not in open_to:
        raise InvalidInput(
            f"{wanted!r} is not open to this caller now: choose one of {', '.join(open_to)}",
            code="vaccine_not_open",
            field="vaccine",
            vaccines=list(open_to),
        )
    return catalogue.vaccines[wanted]


def _first_days(
    catalogue: Catalogue, answers: Sequence[EligibilityAnswer], vaccine: str, now: datetime
) -> DayRanges | None:
    """The first-dose days open to every person, or None when that is every day a first
    dose can be booked (no filter: the offers memo is shared with everybody)."""
    ranges: list[DayRange] = list(answers[0].decision.first_dose_days.get(vaccine, ()))
    for other in answers[1:]:
        theirs = other.decision.first_dose_days.get(vaccine, ())
        ranges = [
            DayRange(max(a.first, b.first), min(a.last, b.last))
            for a in ranges
            for b in theirs
            if max(a.first, b.first) <= min(a.last, b.last)
        ]
    campaign = catalogue.campaign
    bookable = window_days(campaign.booking_from, campaign.booking_until, local_day(now))
    if ranges == [bookable]:
        return None
    return tuple((r.first, r.last) for r in ranges)


async def _centres(
    inventory: Inventory,
    catalogue: Catalogue,
    answer: EligibilityAnswer,
    allowed: Sequence[int],
    vaccine: Vaccine,
    query: OfferQuery,
    days: DayRanges | None,
) -> list[CentreOffers]:
    if not allowed:
        return []
    home = home_centre(catalogue, answer.district_id, allowed)
    wish = _wish(query, days)
    others = sorted(
        (catalogue.centres[c] for c in allowed if c != home.id),
        key=lambda c: distance_km(home.lat, home.lon, c.lat, c.lon),
    )
    with_days: set[int] = set()
    if inventory.vaccine_open(catalogue, vaccine.code):
        ids = [home.id, *(c.id for c in others)]
        with_days = await read_ahead(inventory, catalogue, ids, vaccine.code, wish, phone=True)
        if query.held is not None:  # its own seats may be all a rebooking's centre has
            with_days.add(query.held.centre_id)
    asked = _Asked(inventory, catalogue, vaccine, wish, with_days, query.held)
    found = [CentreOffers(home, None, vaccine.code, await asked.offers(home, HOME_OFFERS))]
    for other in [c for c in others if c.id in with_days][: MAX_TRIED - 1]:
        if len(found) > MAX_NEAREST:
            break
        offers = await asked.offers(other, OTHER_OFFERS)
        if offers:
            km = round(distance_km(home.lat, home.lon, other.lat, other.lon), 1)
            found.append(CentreOffers(other, km, vaccine.code, offers))
    return found


def _wish(query: OfferQuery, days: DayRanges | None) -> OfferWish:
    try:
        return OfferWish(query.persons, HOME_OFFERS, query.day, query.part, days)
    except ValueError as exc:
        raise InvalidInput(str(exc), code="invalid_part", field="part") from None


@dataclass(frozen=True, slots=True)
class _Asked:
    """What every centre is asked for: the vaccine, the wish, the centres with a free day,
    and the booking being moved, if any."""

    inventory: Inventory
    catalogue: Catalogue
    vaccine: Vaccine
    wish: OfferWish
    with_days: set[int]
    held: HeldSeats | None

    async def offers(self, centre: Centre, limit: int) -> list[OfferOut]:
        if centre.id not in self.with_days:  # no first free day in the readings just read
            return []
        own = self.held.of(centre.id, self.vaccine.code) if self.held else ()
        # One more where the booking is: the offer it already holds is no choice.
        wish = replace(self.wish, limit=limit + 1 if own else limit)
        # The phone's own readings: agents may offer the seats the share keeps for the hotline.
        offers, _ = await self.inventory.find(
            self.catalogue, centre, self.vaccine, wish, phone=True, held=self.held
        )
        if own and self.held is not None:
            current = self.held.current()
            moved = [o for o in offers if sorted(o.slot_ids) != current]
            kept = await self._second_moves(centre, self.held)
            offers = kept + moved[: limit - len(kept)]
        return [OfferOut.of(o) for o in offers]

    async def _second_moves(self, centre: Centre, held: HeldSeats) -> list[Offer]:
        """A rebooking that keeps the first dose and moves the second: the booking's first
        slot (one for all its persons, not begun) with second doses out of its current one."""
        now = self.inventory.clock.now()
        firsts = [s for s in held.slots if s.id in held.firsts and s.starts_at > now]
        if len(firsts) != 1 or self.wish.day is not None or self.wish.part is not None:
            return []
        first = FreeSlot(firsts[0].id, firsts[0].starts_at, self.wish.persons)
        seconds = frozenset(s.id for s in held.slots) - held.firsts
        closed = partial(self.catalogue.closures.closed, centre.id)
        reads = self.inventory.reads(centre.id, self.vaccine.code, self.catalogue, phone=True)
        async with reads:
            return await second_dose_moves(
                reads, self.vaccine, first, self.wish.persons, closed, seconds, KEPT_FIRST
            )
