"""Finding offers by bounded reads (kontingent.inventory.offers, pairing.second_days): what is
read when no second dose can be had, and which days a second dose is looked for on."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kontingent.clock import BERLIN
from kontingent.inventory.cache import Availability, DaySeats
from kontingent.inventory.model import FreeSlot, Vaccine
from kontingent.inventory.offers import MemoryDays, find_offers
from kontingent.inventory.pairing import OfferWish, second_days

AZ = Vaccine("AZ", "AstraZeneca", 2, 28, 84, None, None, 84)
BNT = Vaccine("BNT", "BioNTech", 2, 21, 42, None, None, 21)
DAY = date(2026, 1, 13)
EARLIEST = datetime(2026, 1, 12, 18, 0, tzinfo=BERLIN)


def _slots(days: range, first_id: int = 1) -> list[FreeSlot]:
    """Three slots of 5 seats on each day offset of `days` from DAY."""
    found, slot_id = [], first_id
    for offset in days:
        for hour in (9, 11, 15):
            start = datetime.combine(DAY + timedelta(days=offset), datetime.min.time(), BERLIN)
            found.append(FreeSlot(slot_id, start + timedelta(hours=hour), 5))
            slot_id += 1
    return found


class Counted(MemoryDays):
    """MemoryDays that counts the reads of each kind."""

    def __init__(self, free: list[FreeSlot]) -> None:
        super().__init__(free)
        self.reads = {"first_days": 0, "seats": 0, "slots": 0}

    async def first_days(self, first: date, last: date, persons: int) -> DaySeats:
        self.reads["first_days"] += 1
        return await super().first_days(first, last, persons)

    async def seats(self, first: date, last: date) -> DaySeats:
        self.reads["seats"] += 1
        return await super().seats(first, last)

    async def slots(self, day: date) -> Availability:
        self.reads["slots"] += 1
        return await super().slots(day)


async def test_first_doses_without_any_second_dose_read_no_slots_and_one_window_a_page() -> None:
    """Issue 13: second-dose days not released yet made a cold refresh read every day of 31
    first days' windows (118 statements, 120 ms on SQLite at 4x the demo's weeks)."""
    source = Counted(_slots(range(0, 25)))  # first doses only: nothing 28 days on has room
    offers = await find_offers(source, AZ, OfferWish(), EARLIEST, DAY + timedelta(days=200), _open)
    assert offers == []
    assert source.reads["slots"] == 0
    assert source.reads["seats"] == source.reads["first_days"] == 4  # one window per page


async def test_a_second_dose_is_found_and_each_page_reads_its_windows_once() -> None:
    source = Counted(_slots(range(0, 3)) + _slots(range(21, 45), first_id=100))
    offers = await find_offers(
        source, BNT, OfferWish(limit=3), EARLIEST, DAY + timedelta(90), _open
    )
    assert len(offers) == 3
    assert offers[0].appointments[1].starts_at - offers[0].appointments[0].starts_at == timedelta(
        days=21
    )
    assert source.reads["seats"] == 1


def test_a_second_dose_is_looked_for_on_days_with_seats_read_and_short_days_last() -> None:
    first = date(2026, 2, 1)
    aim = first.toordinal() + 21
    seats = {aim: 0, aim + 1: 5, aim + 3: 1}  # aim: counted short; aim + 2: no seat when read
    assert second_days(first, BNT, seats, 1, _open) == [aim + 1, aim + 3, aim]
    assert second_days(first, BNT, seats, 2, _open) == [aim + 1, aim, aim + 3]
    assert second_days(first, BNT, {}, 1, _open) == []


def _open(_: date) -> bool:
    return False
