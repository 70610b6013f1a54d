"""The availability cache with a real TTL, on SQLite and PostgreSQL (the other tests run with
the cache off).

What these tests hold the cache to: a booking made by this process shows in the offers at
once, without re-reading the centre; a lost race puts the true seats left of the slots it
wanted into the cached reading, so the loser's fresh offers leave a full slot out; offers are
computed once per reading and recomputed exactly when a slot crosses the line between room
for two, one and none; and a booking never trusts the cache, only the database.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from kontingent.app import Services
from kontingent.booking.service import Booking, SlotTaken
from kontingent.clock import FixedClock
from kontingent.inventory.model import FreeSlot
from kontingent.inventory.service import Availability, Inventory
from kontingent.schema import slots
from tests.support import BIELEFELD, T0, claims_for, person, phone, set_free

TTL_S = 600.0  # longer than any test: only bookings and races may change the reading


@pytest.fixture
def cached(services: Services) -> tuple[Inventory, Booking]:
    inventory = Inventory(services.db, services.clock, ttl_s=TTL_S)
    return inventory, Booking(services.db, services.clock, inventory, services.settings.secret_key)


async def test_own_booking_shows_at_once_without_reading_the_centre_again(
    services: Services, cached: tuple[Inventory, Booking]
) -> None:
    inventory, booking = cached
    first = (await inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    await set_free(services.db, 1, *first.slot_ids)
    inventory.slots_changed(BIELEFELD, "BNT")  # read again, with one seat left in each
    assert (await inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0] == first
    loads = inventory.availability_cache.misses

    claims = await claims_for(services, phone(0))
    await booking.book(claims, [person(0)], first.slot_ids)

    after = (await inventory.offers(BIELEFELD, "BNT", limit=3)).offers
    assert first not in after
    assert not {s for o in after for s in o.slot_ids} & set(first.slot_ids)
    assert inventory.availability_cache.misses == loads


async def test_lost_race_refreshes_the_wanted_slots_only(
    services: Services, cached: tuple[Inventory, Booking]
) -> None:
    inventory, booking = cached
    first = (await inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    loads = inventory.availability_cache.misses
    await set_free(services.db, 0, first.slot_ids[0])  # another process took the last seat

    claims = await claims_for(services, phone(1))
    with pytest.raises(SlotTaken) as lost:
        await booking.book(claims, [person(1)], first.slot_ids)

    fresh = lost.value.details["offers"]
    assert fresh, "the loser gets offers to click next"
    assert all(first.slot_ids[0] not in [a["slot_id"] for a in o["appointments"]] for o in fresh)
    assert inventory.availability_cache.misses == loads
    cached_now = (await inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    assert first.slot_ids[0] not in cached_now.slot_ids


async def test_booking_decides_against_the_database_not_the_cache(
    services: Services, cached: tuple[Inventory, Booking]
) -> None:
    inventory, booking = cached
    first = (await inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    await set_free(services.db, 0, first.slot_ids[1])  # the cache still shows it free
    claims = await claims_for(services, phone(2))
    with pytest.raises(SlotTaken):
        await booking.book(claims, [person(2)], first.slot_ids)
    state = [(await inventory.slot(i)).booked for i in first.slot_ids]
    capacity = (await inventory.slot(first.slot_ids[0])).capacity
    assert state == [0, capacity], "the first slot's seat was given back"


def _reading(*free: int) -> Availability:
    start = T0 + timedelta(days=1)
    return Availability.read(
        [FreeSlot(i + 1, start + timedelta(minutes=20 * i), n) for i, n in enumerate(free)]
    )


def test_memo_is_kept_while_no_slot_crosses_the_pairing_line() -> None:
    reading = _reading(5, 2, 1)
    reading.memoised("k", lambda: "computed")
    assert reading.with_taken({1: 1}).memo == {"k": "computed"}  # 5 -> 4: still room for two
    assert reading.with_taken({2: 1}).memo == {}  # 2 -> 1: no room for a couple any more
    assert reading.with_taken({3: 1}).memo == {}  # 1 -> 0: full
    assert reading.with_free({1: 3}).memo == {"k": "computed"}
    assert reading.with_free({3: 4}).memo == {}  # 1 -> 4: a couple fits again


def test_a_new_reading_leaves_the_old_one_untouched() -> None:
    reading = _reading(5, 2)
    after = reading.with_taken({1: 2, 99: 1})  # 99: not in the reading, ignored
    assert [s.free for s in after.free] == [3, 2]
    assert [s.free for s in reading.free] == [5, 2]
    assert after is not reading
    assert reading.with_free({2: -3}).free[1].free == 0


class Ticks:
    """A monotonic clock for the caches that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_readings_outlive_the_ttl_while_every_change_reaches_them(
    services: Services,
) -> None:
    """Issue 13: with the cross-process invalidation connected a key is read again when a
    change drops it (or after the settled TTL), not every second."""
    ticks = Ticks()
    inventory = Inventory(services.db, services.clock, ttl_s=1, settled_ttl_s=30, monotonic=ticks)
    inventory.invalidation_connected = True  # what the listener sets once subscribed
    first = await inventory.offers(BIELEFELD, "BNT", limit=3)
    loads = inventory.cache_stats().misses
    ticks.now += 20  # far past the 1 s TTL, within the settled one
    assert await inventory.offers(BIELEFELD, "BNT", limit=3) == first
    assert inventory.cache_stats().misses == loads, "nothing read again"

    inventory.slots_changed(BIELEFELD, "BNT")  # a cancellation here or announced elsewhere
    await inventory.offers(BIELEFELD, "BNT", limit=3)
    assert inventory.cache_stats().misses > loads, "a change asks for a new reading"
    loads = inventory.cache_stats().misses
    ticks.now += 31  # the settled TTL bounds how long a reading lives without changes
    await inventory.offers(BIELEFELD, "BNT", limit=3)
    assert inventory.cache_stats().misses > loads


async def test_when_the_messages_stop_the_long_kept_readings_go_and_the_ttl_is_short_again(
    services: Services,
) -> None:
    ticks = Ticks()
    inventory = Inventory(services.db, services.clock, ttl_s=1, settled_ttl_s=30, monotonic=ticks)
    inventory.invalidation_connected = True
    await inventory.offers(BIELEFELD, "BNT", limit=3)
    assert inventory.cache_stats().readings > 0
    inventory.invalidation_connected = False  # the listener lost Redis
    assert inventory.cache_stats().readings == 0, "held on the promise of messages"
    await inventory.offers(BIELEFELD, "BNT", limit=3)
    loads = inventory.cache_stats().misses
    ticks.now += 2
    await inventory.offers(BIELEFELD, "BNT", limit=3)
    assert inventory.cache_stats().misses > loads, "read again after the 1 s TTL"


def test_a_cache_turned_off_stays_off_when_the_messages_come() -> None:
    inventory = Inventory(None, FixedClock(T0), ttl_s=0, settled_ttl_s=30)  # type: ignore[arg-type]
    inventory.invalidation_connected = True
    assert inventory.availability_cache.ttl_s == inventory.days_cache.ttl_s == 0


class Reads:
    """Counts what the service asks of the database: SQLAlchemy statements and plain-driver
    calls (the PostgreSQL lookups of slot facts)."""

    def __init__(self, services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        event.listen(services.db.engine.sync_engine, "before_cursor_execute", self._seen)
        self._engine = services.db.engine.sync_engine
        run_driver = services.db.run_driver

        async def counted(work: Any) -> Any:
            self.count += 1
            return await run_driver(work)

        monkeypatch.setattr(services.db, "run_driver", counted)

    def _seen(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.count += not statement.startswith("BEGIN")  # SQLite's transactions are ours

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)


async def test_a_booking_finds_the_facts_of_offered_slots_without_reading(
    services: Services, cached: tuple[Inventory, Booking], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: the slot lookup before booking reads nothing for slots in a reading, and
    a change of their centre and vaccine (release, cancellation) makes it read again."""
    inventory, _ = cached
    offer = (await inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    reads = Reads(services, monkeypatch)
    try:
        facts = await inventory.slot_infos(offer.slot_ids)
        assert reads.count == 0
        assert [facts[i].centre_id for i in offer.slot_ids] == [BIELEFELD] * 2
        assert [facts[i].starts_at for i in offer.slot_ids] == [
            a.starts_at for a in offer.appointments
        ]

        inventory.slots_changed(BIELEFELD, "BNT")  # e.g. a release moved their minute
        assert await inventory.slot_infos(offer.slot_ids) == facts
        assert reads.count == 1, "read again, once"
        await inventory.slot_infos(offer.slot_ids)
        assert reads.count == 1, "and kept"
    finally:
        reads.close()


async def test_a_slot_read_for_a_booking_brings_its_days_neighbours_on_postgresql(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not services.db.has_driver:
        pytest.skip("the plain-driver read exists on PostgreSQL only")
    inventory = Inventory(services.db, services.clock, ttl_s=TTL_S)
    async with services.db.read() as conn:
        day = T0 + timedelta(days=3)
        rows = (
            await conn.execute(
                select(slots.c.id)
                .where(
                    slots.c.centre_id == BIELEFELD,
                    slots.c.vaccine_code == "BNT",
                    slots.c.starts_at >= day,
                    slots.c.starts_at < day + timedelta(hours=3),
                )
                .order_by(slots.c.starts_at)
            )
        ).all()
    first, later = rows[0][0], rows[-1][0]
    reads = Reads(services, monkeypatch)
    try:
        assert first in await inventory.slot_infos([first, 10**9])
        assert reads.count == 1
        assert (await inventory.slot_infos([later]))[later].vaccine_code == "BNT"
        assert reads.count == 1, "the later slot of that day came with the first"
    finally:
        reads.close()
