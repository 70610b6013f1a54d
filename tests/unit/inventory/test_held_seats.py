"""A rebooking's offers (kontingent.inventory.offers.WithHeld): the booking's own seats count
as free. Held to one rule: offers over the free slots with the booking's seats added through
`WithHeld` are the offers over the same slots with those seats simply free, whatever slots
the booking holds (full ones, ones with room, on days booked out but for them); and a move
of the second dose keeps the first and leaves the current second's slot."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from kontingent.inventory.model import FreeSlot
from kontingent.inventory.offers import MemoryDays, WithHeld, find_offers, second_dose_moves
from kontingent.inventory.pairing import OfferWish
from tests.unit.inventory.test_offers import BNT, DAY, EARLIEST, _slots

NEVER_CLOSED = lambda _: False  # noqa: E731
LAST_DAY = DAY + timedelta(days=90)


def merged(free: list[FreeSlot], held: list[FreeSlot]) -> list[FreeSlot]:
    own = {s.id: s.free for s in held}
    return [FreeSlot(s.id, s.starts_at, s.free + own.get(s.id, 0)) for s in free]


@pytest.mark.parametrize("seed", range(40))
async def test_held_seats_offer_what_the_same_seats_free_would(seed: int) -> None:
    pick = random.Random(seed)
    slots = _slots(range(0, 70))
    free = [FreeSlot(s.id, s.starts_at, pick.choice([0, 0, 1, 2, 5])) for s in slots]
    persons = pick.choice([1, 2])
    first = pick.choice(slots[:30])
    second = pick.choice([s for s in slots if 21 <= (s.starts_at - first.starts_at).days <= 42])
    held = [
        FreeSlot(first.id, first.starts_at, persons),
        FreeSlot(second.id, second.starts_at, persons),
    ]
    wish = OfferWish(persons, pick.choice([1, 5, 20]))
    source = WithHeld(MemoryDays(free), held, EARLIEST - timedelta(days=1))
    got = await find_offers(source, BNT, wish, EARLIEST, LAST_DAY, NEVER_CLOSED)
    want = await find_offers(
        MemoryDays(merged(free, held)), BNT, wish, EARLIEST, LAST_DAY, NEVER_CLOSED
    )
    assert got == want


async def test_a_move_of_the_second_dose_keeps_the_first_and_leaves_its_slot() -> None:
    slots = _slots(range(0, 50))
    first, second = slots[0], slots[3 * 21]  # the recommended day, the same hour
    free = [FreeSlot(s.id, s.starts_at, 0 if s.id == first.id else 5) for s in slots]
    kept = FreeSlot(first.id, first.starts_at, 2)
    moves = await second_dose_moves(
        MemoryDays(free), BNT, kept, 2, NEVER_CLOSED, frozenset({second.id}), 2
    )
    assert len(moves) == 2
    for offer in moves:
        assert offer.slot_ids[:2] == [first.id, first.id]
        assert second.id not in offer.slot_ids
    days = {o.appointments[2].starts_at.date() for o in moves}
    assert len(days) == 2  # one per day, nearest the recommended day first


def test_slots_that_began_are_not_counted() -> None:
    began = FreeSlot(1, datetime(2026, 1, 12, 8, 0, tzinfo=EARLIEST.tzinfo), 2)
    assert WithHeld(MemoryDays([]), [began], EARLIEST).held == []
