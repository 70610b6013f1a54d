"""Finding offers by bounded reads: the first free days from seats per day, then the slots of
those days only, and for each first dose the second-dose day and slot (pairing.py).

Invariants kept here:
- What is read never grows with the inventory on file: first-dose days come a page
  (`FIRST_DAYS_PAGE`) at a time from `slot_days` and at most `MAX_FIRST_DAYS` of them are
  looked at for one answer; the seats of the second-dose windows of a page of first days are
  one read, a first day whose window has no seat is not read at all, and a second dose reads
  the slots of the window's days that had seats, nearest the recommended day first. Every
  read goes through a `DaySource`, which the service backs with its caches.
- A day with seats on paper but no slot that fits (seats split over slots, slots that began
  already) yields nothing and the search moves on: shown too few, never too many.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from kontingent.inventory.cache import Availability, DaySeats
from kontingent.inventory.model import Appointment, FreeSlot, Offer, Vaccine, local_day, make_offer
from kontingent.inventory.pairing import (
    Closed,
    OfferWish,
    day_allowed,
    first_doses,
    nearest_slot,
    second_days,
    window_of,
)

if TYPE_CHECKING:
    from kontingent.inventory.repository import Catalogue

FIRST_DAYS_PAGE = 7  # days with room asked of slot_days at once
MAX_FIRST_DAYS = 31  # free days one answer looks at for first doses, at most
MAX_MOVE_DAYS = 7  # second-dose days whose slots a move of the second dose reads, at most


class DaySource(Protocol):
    async def first_days(self, first: date, last: date, persons: int) -> DaySeats:
        """Up to FIRST_DAYS_PAGE days in [first, last] with room for `persons`."""
        ...

    async def seats(self, first: date, last: date) -> DaySeats: ...

    async def slots(self, day: date) -> Availability: ...

    async def prefetch(self, days: Sequence[date]) -> None:
        """A hint: the slots of `days` will be asked for next (a source may read them
        together; `slots` answers the same either way)."""
        ...


def last_bookable_day(catalogue: Catalogue) -> date:
    """The campaign's last local day (its end is exclusive)."""
    return local_day(catalogue.campaign.booking_until - timedelta(microseconds=1))


def first_day_range(wish: OfferWish, earliest: datetime, last_day: date) -> tuple[date, date]:
    """The days a first dose may fall on at all: from the lead time to the window's end,
    narrowed to the chosen day and to the days the age rule leaves."""
    lo, hi = local_day(earliest), last_day
    if wish.day is not None:
        lo, hi = max(lo, wish.day), min(hi, wish.day)
    if wish.first_days is not None:
        if not wish.first_days:
            return date.max, date.min
        lo = max(lo, min(a for a, _ in wish.first_days))
        hi = min(hi, max(b for _, b in wish.first_days))
    return lo, hi


async def find_offers(
    source: DaySource,
    vaccine: Vaccine,
    wish: OfferWish,
    earliest: datetime,
    last_day: date,
    closed: Closed,
) -> list[Offer]:
    """At most `wish.limit` offers, first doses in start order from `earliest` on."""
    offers: list[Offer] = []
    lo, hi = first_day_range(wish, earliest, last_day)
    looked = 0
    while lo <= hi and len(offers) < wish.limit and looked < MAX_FIRST_DAYS:
        page = sorted((await source.first_days(lo, hi, wish.persons)).seats)
        days = [date.fromordinal(d) for d in page[: MAX_FIRST_DAYS - looked]]
        looked += len(days)
        allowed = [day for day in days if day_allowed(day, wish, closed)]
        seconds = await _window_seats(source, vaccine, allowed)
        for day in allowed:
            await _offers_on(source, vaccine, wish, day, earliest, closed, offers, seconds)
            if len(offers) >= wish.limit:
                break
        if len(page) < FIRST_DAYS_PAGE:
            break
        lo = date.fromordinal(page[-1] + 1)
    return offers


async def _window_seats(source: DaySource, vaccine: Vaccine, days: Sequence[date]) -> DaySeats:
    """The seats per day of every second-dose window of `days` (a page of first days), in
    one read: the windows of neighbouring days overlap almost wholly."""
    if vaccine.doses == 1 or not days:
        return DaySeats({})
    return await source.seats(window_of(days[0], vaccine)[0], window_of(days[-1], vaccine)[1])


async def _offers_on(
    source: DaySource,
    vaccine: Vaccine,
    wish: OfferWish,
    day: date,
    earliest: datetime,
    closed: Closed,
    offers: list[Offer],
    seconds: DaySeats,
) -> None:
    candidates: list[int] = []
    if vaccine.doses > 1:
        candidates = second_days(day, vaccine, seconds.seats, wish.persons, closed)
        if not candidates:
            return  # no second dose anywhere in the window: the day's slots need no reading
    if candidates:  # the first dose's day and its most likely second dose's, read together
        await source.prefetch([day, date.fromordinal(candidates[0])])
    firsts = first_doses((await source.slots(day)).free, wish, earliest)
    if vaccine.doses == 1:
        for first in firsts:
            offers.append(make_offer([first], wish.persons))
            if len(offers) >= wish.limit:
                return
        return
    for first in firsts:
        second = await _second_dose(source, first, candidates, wish.persons)
        if second is not None:
            offers.append(make_offer([first, second], wish.persons))
            if len(offers) >= wish.limit:
                return


async def _second_dose(
    source: DaySource, first: FreeSlot, days: Sequence[int], persons: int
) -> FreeSlot | None:
    for ordinal in days:
        second = nearest_slot((await source.slots(date.fromordinal(ordinal))).free, first, persons)
        if second is not None:
            return second
    return None


@dataclass(frozen=True, slots=True)
class HeldSeats:
    """The seats a booking holds (a rebooking frees them): its centre and vaccine, and per
    slot its start and the seats held there."""

    centre_id: int
    vaccine_code: str
    slots: tuple[FreeSlot, ...]  # `free`: the seats the booking holds in the slot
    firsts: frozenset[int] = frozenset()  # the slots of its first doses

    @classmethod
    def by(cls, centre_id: int, vaccine_code: str, booked: Sequence[Appointment]) -> HeldSeats:
        """The seats held by a booking's appointments (a couple holds two per slot)."""
        seats: dict[int, FreeSlot] = {}
        for a in booked:
            had = seats.get(a.slot_id)
            seats[a.slot_id] = FreeSlot(a.slot_id, a.starts_at, (had.free if had else 0) + 1)
        firsts = frozenset(a.slot_id for a in booked if a.dose == 1)
        return cls(centre_id, vaccine_code, tuple(seats.values()), firsts)

    def current(self) -> list[int]:
        """The booking's slot ids as an offer lists them, sorted."""
        return sorted(s.id for s in self.slots for _ in range(s.free))

    def of(self, centre_id: int, vaccine_code: str) -> tuple[FreeSlot, ...]:
        return (
            self.slots if (centre_id, vaccine_code) == (self.centre_id, self.vaccine_code) else ()
        )


class WithHeld:
    """A DaySource that counts a booking's own seats as free, as its rebooking will: the
    rebooking takes only the seats it does not hold and frees the rest in one transaction
    (booking/rebooking.py), so an offer that keeps one of its slots, or moves within a day
    booked out but for its own seats, can be taken. Slots that began are left out."""

    def __init__(self, source: DaySource, held: Sequence[FreeSlot], after: datetime) -> None:
        self.source = source
        self.held = [s for s in held if s.starts_at > after]

    def _held_days(self, first: date, last: date) -> dict[int, int]:
        days: dict[int, int] = {}
        for slot in self.held:
            day = local_day(slot.starts_at)
            if first <= day <= last:
                days[day.toordinal()] = days.get(day.toordinal(), 0) + slot.free
        return days

    async def first_days(self, first: date, last: date, persons: int) -> DaySeats:
        found = dict((await self.source.first_days(first, last, persons)).seats)
        held = self._held_days(first, last)
        if len(found) >= FIRST_DAYS_PAGE:  # a full page: days after it are the next page's
            held = {d: n for d, n in held.items() if d <= max(found)}
        for day, n in held.items():
            if day not in found:  # fewer seats than persons without the booking's own
                own = date.fromordinal(day)
                found[day] = (await self.source.seats(own, own)).seats.get(day, 0)
            found[day] += n
        fits = sorted(d for d, n in found.items() if n >= persons)[:FIRST_DAYS_PAGE]
        return DaySeats({d: found[d] for d in fits})

    async def seats(self, first: date, last: date) -> DaySeats:
        seats = dict((await self.source.seats(first, last)).seats)
        for day, n in self._held_days(first, last).items():
            seats[day] = seats.get(day, 0) + n
        return DaySeats(seats)

    async def prefetch(self, days: Sequence[date]) -> None:
        await self.source.prefetch(days)

    async def slots(self, day: date) -> Availability:
        reading = await self.source.slots(day)
        own = {s.id: s for s in self.held if local_day(s.starts_at) == day}
        if not own:
            return reading
        free = [FreeSlot(s.id, s.starts_at, s.free + own.pop(s.id).free) if s.id in own else s
                for s in reading.free]  # fmt: skip
        return Availability.read(sorted([*free, *own.values()], key=lambda s: s.starts_at))


async def second_dose_moves(
    source: DaySource,
    vaccine: Vaccine,
    first: FreeSlot,
    persons: int,
    closed: Closed,
    leave: frozenset[int],
    limit: int,
) -> list[Offer]:
    """Offers that keep the first dose `first` and move the second out of the slots `leave`
    (where it is now): on the days `second_days` orders, nearest the first dose's time, one
    per day, at most `limit`; at most MAX_MOVE_DAYS days' slots are read."""
    if vaccine.doses == 1:
        return []
    day = local_day(first.starts_at)
    seats = (await source.seats(*window_of(day, vaccine))).seats
    moves: list[Offer] = []
    for ordinal in second_days(day, vaccine, seats, persons, closed)[:MAX_MOVE_DAYS]:
        free = [
            s for s in (await source.slots(date.fromordinal(ordinal))).free if s.id not in leave
        ]
        second = nearest_slot(free, first, persons)
        if second is not None:
            moves.append(make_offer([first, second], persons))
            if len(moves) >= limit:
                break
    return moves


class MemoryDays:
    """A DaySource over slots held in memory (tests, and anything that has the slots
    already): the same answers the database gives for the same free slots."""

    def __init__(self, free: Sequence[FreeSlot]) -> None:
        self._by_day: dict[int, list[FreeSlot]] = {}
        for slot in sorted(free, key=lambda s: s.starts_at):
            if slot.free > 0:
                self._by_day.setdefault(local_day(slot.starts_at).toordinal(), []).append(slot)

    def _seats(self, first: date, last: date) -> dict[int, int]:
        return {
            d: sum(s.free for s in slots)
            for d, slots in self._by_day.items()
            if first.toordinal() <= d <= last.toordinal()
        }

    async def first_days(self, first: date, last: date, persons: int) -> DaySeats:
        found = sorted((d, n) for d, n in self._seats(first, last).items() if n >= persons)
        return DaySeats(dict(found[:FIRST_DAYS_PAGE]))

    async def seats(self, first: date, last: date) -> DaySeats:
        return DaySeats(self._seats(first, last))

    async def slots(self, day: date) -> Availability:
        return Availability.read(list(self._by_day.get(day.toordinal(), [])))

    async def prefetch(self, days: Sequence[date]) -> None:
        return None  # in memory already
