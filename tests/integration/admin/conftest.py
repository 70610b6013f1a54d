"""Bookings made the way the portal and the hotline make them, for the admin figures."""

from __future__ import annotations

from kontingent.app import Services
from kontingent.booking.service import BookingView
from tests.integration.test_races import claims
from tests.support import BIELEFELD, person, phone


async def make_bookings(services: Services) -> list[BookingView]:
    """Two web bookings (one of a couple) and one phone booking at Bielefeld, BNT."""
    tokens = await claims(services, [phone(n) for n in range(3)])
    made = []
    for n, (persons, channel) in enumerate([(1, "web"), (2, "web"), (1, "phone")]):
        offer = (await services.inventory.offers(BIELEFELD, "BNT", persons, limit=1)).offers[0]
        people = [person(10 * n + i) for i in range(persons)]
        made.append(await services.booking.book(tokens[n], people, offer.slot_ids, channel=channel))
    return made
