"""Rebooking on both dialects: the new seats are taken and the old ones freed in one
transaction; a slot taken meanwhile changes nothing; concurrent moves never free twice."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from kontingent.app import Services
from kontingent.booking.service import BookingView, SlotTaken
from kontingent.errors import Conflict, NotFound
from kontingent.inventory.model import Offer
from kontingent.schema import outbox
from tests.support import BIELEFELD, claims_for, db_counts, person, phone, set_free


async def booked(services: Services, *slot_ids: int) -> list[int]:
    return [(await services.inventory.slot(i)).booked for i in slot_ids]


async def offers(services: Services, persons: int = 1, limit: int = 6) -> list[Offer]:
    view = await services.inventory.offers(BIELEFELD, "BNT", persons, limit=limit)
    assert len(view.offers) == limit
    return view.offers


async def book(services: Services, offer: Offer, i: int = 0, persons: int = 1) -> BookingView:
    claims = await claims_for(services, phone(i))
    people = [person(i + p) for p in range(persons)]
    return await services.booking.book(claims, people, offer.slot_ids)


async def sms_count(services: Services) -> int:
    async with services.db.read() as conn:
        query = select(func.count()).select_from(outbox).where(outbox.c.channel == "sms")
        return int((await conn.execute(query)).scalar_one())


def distinct(offer: Offer) -> list[int]:
    return sorted(set(offer.slot_ids))


async def test_rebook_moves_the_seats_and_sends_the_new_dates(services: Services) -> None:
    old, new = (await offers(services))[0], (await offers(services))[-1]
    view = await book(services, old)
    messages = await sms_count(services)
    moved = await services.booking.rebook(view.code, "1939-05-01", new.slot_ids)
    assert sorted(a.slot_id for a in moved.appointments) == sorted(new.slot_ids)
    assert [a.dose for a in moved.appointments] == [1, 2]
    for slot_id in set(old.slot_ids) - set(new.slot_ids):
        assert await booked(services, slot_id) == [0]
    assert await booked(services, *distinct(new)) == [1] * len(distinct(new))
    found = await services.booking.find(view.code, "1939-05-01")
    assert sorted(a.slot_id for a in found.appointments) == sorted(new.slot_ids)
    assert await sms_count(services) == messages + 1  # the new confirmation, queued with it


async def test_a_taken_slot_changes_nothing(services: Services) -> None:
    old, new = (await offers(services))[0], (await offers(services))[-1]
    view = await book(services, old)
    first_new = new.slot_ids[0]
    await set_free(services.db, 0, first_new)
    before, messages = await db_counts(services.db), await sms_count(services)
    with pytest.raises(SlotTaken) as taken:
        await services.booking.rebook(view.code, "1939-05-01", new.slot_ids)
    assert taken.value.details["offers"]  # fresh offers to choose from
    assert all(
        first_new not in [a["slot_id"] for a in o["appointments"]]
        for o in taken.value.details["offers"]
    )
    assert await db_counts(services.db) == before
    assert await sms_count(services) == messages
    kept = await services.booking.find(view.code, "1939-05-01")
    assert sorted(a.slot_id for a in kept.appointments) == sorted(old.slot_ids)


async def test_a_couple_moves_together(services: Services) -> None:
    pair = await offers(services, persons=2)
    view = await book(services, pair[0], persons=2)
    moved = await services.booking.rebook(view.code, "1939-05-01", pair[3].slot_ids)
    assert len(moved.appointments) == 4
    assert {a.person for a in moved.appointments} == {0, 1}
    gone = set(pair[0].slot_ids) - set(pair[3].slot_ids)
    assert await booked(services, *gone) == [0] * len(gone)
    assert await booked(services, *distinct(pair[3])) == [2] * len(distinct(pair[3]))


async def test_only_the_difference_moves_when_offers_share_a_slot(services: Services) -> None:
    """A full slot that the booking itself holds a seat in still fits the new offer."""
    early = await offers(services)
    # The second offer's own second-dose slot full: its first dose pairs with the nearest
    # other time that day, the first offer's second dose (20 minutes earlier, earlier on ties).
    await set_free(services.db, 0, early[1].slot_ids[1])
    candidates = await offers(services)
    old = candidates[0]
    shared = next((o for o in candidates[1:] if o.slot_ids[1] == old.slot_ids[1]), None)
    assert shared is not None
    view = await book(services, old)
    await set_free(services.db, 0, old.slot_ids[1])  # the shared slot is now full
    full = (await services.inventory.slot(old.slot_ids[1])).booked
    await services.booking.rebook(view.code, "1939-05-01", shared.slot_ids)
    assert await booked(services, old.slot_ids[0], shared.slot_ids[0]) == [0, 1]
    assert await booked(services, old.slot_ids[1]) == [full]


async def test_the_same_offer_again_changes_nothing(services: Services) -> None:
    offer = (await offers(services))[0]
    view = await book(services, offer)
    before, messages = await db_counts(services.db), await sms_count(services)
    again = await services.booking.rebook(view.code, "1939-05-01", offer.slot_ids)
    assert again.code == view.code
    assert await db_counts(services.db) == before
    assert await sms_count(services) == messages


async def test_cancelled_or_unknown_bookings_cannot_move(services: Services) -> None:
    old, new = (await offers(services))[0], (await offers(services))[1]
    view = await book(services, old)
    with pytest.raises(NotFound):
        await services.booking.rebook(view.code, "1940-05-01", new.slot_ids)
    await services.booking.cancel(view.code, "1939-05-01")
    with pytest.raises(Conflict) as refused:
        await services.booking.rebook(view.code, "1939-05-01", new.slot_ids)
    assert refused.value.code == "booking_cancelled"
    assert await booked(services, *distinct(new)) == [0] * len(distinct(new))


async def test_concurrent_moves_never_free_a_seat_twice(services: Services) -> None:
    candidates = await offers(services)
    view = await book(services, candidates[0])
    targets = [candidates[2], candidates[4]]
    results = await asyncio.gather(
        *(services.booking.rebook(view.code, "1939-05-01", t.slot_ids) for t in targets),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, BaseException)], results
    final = await services.booking.find(view.code, "1939-05-01")
    held = sorted(a.slot_id for a in final.appointments)
    involved = sorted({s for o in (candidates[0], *targets) for s in o.slot_ids})
    seats = dict(zip(involved, await booked(services, *involved), strict=True))
    # exactly the final offer's seats are taken; every other involved slot is back to zero
    assert seats == {s: held.count(s) for s in involved}
