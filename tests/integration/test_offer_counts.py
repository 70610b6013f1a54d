"""Free-offer counts in the availability feed and in alternatives, on SQLite and PostgreSQL:
they count offers that could all be booked at once (every seat once), and a booking counted
into the cached reading lowers them at once, even when no slot crossed the line that keeps
the memo of shown offers."""

from __future__ import annotations

from kontingent.app import Services
from kontingent.booking.service import Booking
from kontingent.clock import FixedClock
from kontingent.inventory.service import Inventory
from tests.support import BIELEFELD, claims_for, fill_centre, person, phone, set_free


async def _count(inventory: Inventory, centre_id: int, vaccine: str) -> int:
    rows = {(r.centre.id, r.vaccine.code): r.free_offers for r in (await inventory.feed()).rows}
    return rows[(centre_id, vaccine)]


async def test_the_feed_counts_every_seat_once_and_follows_each_booking(
    services: Services, clock: FixedClock
) -> None:
    cached = Inventory(services.db, clock, ttl_s=60, feed_ttl_s=0)
    booking = Booking(services.db, clock, cached, services.settings.secret_key)
    before = await _count(cached, BIELEFELD, "JNJ")
    first = (await cached.offers(BIELEFELD, "JNJ", limit=1)).offers[0]
    claims = await claims_for(services, phone(0))
    await booking.book(claims, [person(0)], first.slot_ids)
    assert await _count(cached, BIELEFELD, "JNJ") == before - 1  # one dose: one seat

    counted = await _count(cached, BIELEFELD, "BNT")
    seats = {(r.centre.id, r.vaccine.code): r.free_seats for r in (await cached.feed()).rows}
    assert 0 < counted <= seats[(BIELEFELD, "BNT")]


async def test_shared_second_dose_seats_are_not_counted_twice_in_alternatives(
    services: Services,
) -> None:
    """Bielefeld full; Bochum keeps one seat in two first-dose slots and one seat in a single
    second-dose slot that both could pair with: one offer can be booked, not two."""
    await fill_centre(services.db, BIELEFELD, "BNT")
    bochum = 2
    early = (await services.inventory.offers(bochum, "BNT", limit=2)).offers
    second = early[0].slot_ids[1]
    await fill_centre(services.db, bochum, "BNT")
    await set_free(services.db, 1, early[0].slot_ids[0], early[1].slot_ids[0], second)
    view = await services.inventory.offers(BIELEFELD, "BNT")
    assert view.offers == []
    counts = {a.centre.id: a.free_offers for a in view.alternatives}
    assert counts[bochum] == 1
