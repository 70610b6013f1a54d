"""Free-offer counts in the availability feed and in alternatives, on SQLite and PostgreSQL:
they count offers that could all be booked at once (every seat once), and a booking counted
into the cached reading lowers them at once, even when no slot crossed the line that keeps
the memo of shown offers."""

from __future__ import annotations

from kontingent.app import Services
from kontingent.booking.service import Booking
from kontingent.clock import FixedClock
from kontingent.inventory.model import count_offers
from kontingent.inventory.service import Inventory
from tests.support import BIELEFELD, claims_for, fill_centre, person, phone, set_free


async def _count(inventory: Inventory, centre_id: int, vaccine: str) -> int:
    rows = {(r.centre.id, r.vaccine.code): r.free_offers for r in (await inventory.feed()).rows}
    return rows[(centre_id, vaccine)]


async def test_the_feed_counts_every_seat_once_and_follows_each_booking(
    services: Services, clock: FixedClock
) -> None:
    cached = Inventory(services.db, clock, ttl_s=60, feed_ttl_s=0)
    booking = Booking(services.db, clock, cached)
    reading = await cached.availability_of(BIELEFELD, "JNJ")
    seats = sum(s.free for s in reading.free)
    assert await _count(cached, BIELEFELD, "JNJ") == seats  # one dose: one offer per seat
    first = reading.free[0]
    claims = await claims_for(services, phone(0))
    await booking.book(claims, [person(0)], [first.id])
    assert await _count(cached, BIELEFELD, "JNJ") == seats - 1

    catalogue = await cached.catalogue()
    bnt = await cached.availability_of(BIELEFELD, "BNT")
    counted = await _count(cached, BIELEFELD, "BNT")
    assert counted == count_offers(bnt.free, catalogue.vaccines["BNT"])
    assert 0 < counted <= sum(s.free for s in bnt.free) // 2  # two seats per offer


async def test_shared_second_dose_seats_are_not_counted_twice_in_alternatives(
    services: Services,
) -> None:
    """Bielefeld full; Bochum keeps one seat in two first-dose slots and one seat in a single
    second-dose slot that both could pair with: one offer can be booked, not two."""
    await fill_centre(services.db, BIELEFELD, "BNT")
    bochum = 2
    reading = await services.inventory.availability_of(bochum, "BNT")
    early = reading.free[:2]
    second = next(
        s for s in reading.free if (s.starts_at - early[1].starts_at).days in range(22, 30)
    )
    await fill_centre(services.db, bochum, "BNT")
    await set_free(services.db, 1, early[0].id, early[1].id, second.id)
    view = await services.inventory.offers(BIELEFELD, "BNT")
    assert view.offers == []
    counts = {a.centre.id: a.free_offers for a in view.alternatives}
    assert counts[bochum] == 1
