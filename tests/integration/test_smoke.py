"""The seeded demo answers through the service layer on both dialects."""

from __future__ import annotations

from kontingent.app import Services
from tests.support import BIELEFELD, claims_for, person, phone


async def test_offers_exist_for_the_open_cohort(services: Services) -> None:
    view = await services.inventory.offers(BIELEFELD, "BNT", persons=2, limit=3)
    assert len(view.offers) == 3
    assert all(len(o.appointments) == 4 for o in view.offers)


async def test_book_one_offer(services: Services) -> None:
    claims = await claims_for(services, phone())
    offer = (await services.inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    view = await services.booking.book(claims, [person()], offer.slot_ids)
    assert view.status == "booked"
    assert [a.dose for a in view.appointments] == [1, 2]
