"""Reading the inventory: reference data, offers, alternatives and the public availability feed.

Invariants kept here:
- Offers and availability come from a short-lived cache (one database read per centre and
  vaccine per TTL, however many people ask at once; after the first, a reading is brought up
  to date from the seats left per slot, which costs a fraction of reading the slots anew);
  a booking never trusts the cache, it decides against the database, so a stale offer costs
  a 409 with fresh offers, never an overbooking.
- A booking made by this process is counted into the cached entry at once (the seats it took
  are subtracted: a new reading, so nothing keyed on the old one is served); after a lost
  race the seats left in the slots it wanted are read and put in; a cancellation drops the
  entry, so the next read sees the database.
- Offers and offer counts are computed once per reading and kept with it: pairing thousands of
  free slots costs milliseconds, reading a memo microseconds. A memo survives a booking's
  subtraction only when no slot crossed the line between seating two persons, one and none,
  because that line alone decides which slots pair into offers.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Generic, TypeVar

from kontingent.booking.model import SlotInfo
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput, NotFound
from kontingent.inventory import repository as repo
from kontingent.inventory.model import (
    Centre,
    FreeSlot,
    Offer,
    Vaccine,
    count_offers,
    distance_km,
    pair_offers,
)
from kontingent.inventory.repository import Catalogue

V = TypeVar("V")
T = TypeVar("T")
MAX_ALTERNATIVES = 5
MAX_SIDE_BY_SIDE = 2  # most persons an offer seats in one slot (a couple)
MAX_CACHED_SLOT_INFOS = 200_000  # a few times the slots of the demo; then start afresh
RELEASED_SLOT_INFO_TTL_S = 60.0


class TtlCache(Generic[V]):
    """Values kept for `ttl_s` seconds; concurrent misses on one key share one load.

    `drop` also forgets a load under way: it may have read before the change that caused the
    drop, so callers after the drop start a new one and the old one's value is not kept.
    """

    def __init__(self, ttl_s: float) -> None:
        self.ttl_s = ttl_s
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._loading: dict[Hashable, asyncio.Future[V]] = {}
        self.hits = 0
        self.misses = 0

    async def get(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._values.get(key)
        if entry is not None and entry[0] > time.monotonic():
            self.hits += 1
            return entry[1]
        pending = self._loading.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending)
        self.misses += 1
        future: asyncio.Future[V] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters get it, nobody else must
            raise
        finally:
            current = self._loading.get(key) is future
            if current:
                del self._loading[key]
        future.set_result(value)
        if self.ttl_s > 0 and current:
            self._values[key] = (time.monotonic() + self.ttl_s, value)
        return value

    def drop(self, key: Hashable) -> None:
        self._values.pop(key, None)
        self._loading.pop(key, None)

    def last(self, key: Hashable) -> V | None:
        """The value kept for `key`, expired or not; None once dropped."""
        entry = self._values.get(key)
        return None if entry is None else entry[1]

    def items_since(self, age_s: float) -> list[tuple[Any, V]]:
        """The (key, value) pairs loaded at most `age_s` seconds ago, expired or not."""
        since = time.monotonic() - age_s + self.ttl_s
        return [(k, e[1]) for k, e in self._values.items() if e[0] > since]

    def replace(self, key: Hashable, change: Callable[[V], V]) -> None:
        """Swap a cached value for `change(value)`, keeping its expiry; a load under way is
        forgotten as by `drop`, since it may have read before the change."""
        entry = self._values.get(key)
        if entry is not None:
            self._values[key] = (entry[0], change(entry[1]))
        self._loading.pop(key, None)

    def clear(self) -> None:
        self._values.clear()
        self._loading.clear()


@dataclass(frozen=True, slots=True)
class Availability:
    """One reading of the free slots of a centre and vaccine, in start order."""

    free: list[FreeSlot]
    next_release_at: datetime | None
    # slot id -> its index in `free`; shared by the readings derived from this one.
    positions: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    # What was computed from this reading (offers, counts), by what and for whom.
    memo: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)
    # The release minute of each slot in `free`, by index.
    released: list[datetime | None] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def read(
        cls,
        free: list[FreeSlot],
        next_release_at: datetime | None,
        released: list[datetime | None] | None = None,
    ) -> Availability:
        positions = {s.id: i for i, s in enumerate(free)}
        return cls(free, next_release_at, positions, {}, released or [])

    def info(self, slot_id: int, centre_id: int, vaccine_code: str) -> SlotInfo | None:
        """What a booking checks about a slot of this reading, if it is in it."""
        i = self.positions.get(slot_id)
        if i is None or i >= len(self.released):
            return None
        slot = self.free[i]
        return SlotInfo(slot.id, centre_id, vaccine_code, slot.starts_at, self.released[i])

    def offer_count(self, vaccine: Vaccine, persons: int) -> int:
        """Disjoint offers in this reading (`count_offers`). Unlike pairing, the count depends
        on every seat, so it is kept with the very `free` list it was counted from and
        counted again for a reading whose seats changed, even where the memo survived."""
        kept = self.memo.get(("count", vaccine, persons))
        if kept is None or kept[0] is not self.free:
            kept = (self.free, count_offers(self.free, vaccine, persons))
            self.memo[("count", vaccine, persons)] = kept
        count: int = kept[1]
        return count

    def memoised(self, key: Hashable, compute: Callable[[], T]) -> T:
        if key not in self.memo:
            self.memo[key] = compute()
        value: T = self.memo[key]
        return value

    def with_taken(self, seats: Mapping[int, int]) -> Availability:
        """The reading after a booking took `seats` (slot id -> seats)."""
        return self.with_free(
            {
                slot_id: self.free[i].free - n
                for slot_id, n in seats.items()
                if (i := self.positions.get(slot_id)) is not None
            }
        )

    def refreshed(
        self, seats: Sequence[tuple[int, int]], next_release_at: datetime | None
    ) -> Availability | None:
        """This reading brought up to date from (slot id, seats left) of every bookable slot
        with a seat left; None when a slot is new to it (released, or freed by a
        cancellation, since it was read), which takes a full reading."""
        left = dict.fromkeys(self.positions, 0)  # absent now: full, past or out of window
        for slot_id, free in seats:
            if slot_id not in left:
                return None
            left[slot_id] = free
        changed = {i: n for i, n in left.items() if self.free[self.positions[i]].free != n}
        fresh = self.with_free(changed)
        return Availability(
            fresh.free, next_release_at, fresh.positions, fresh.memo, fresh.released
        )

    def with_free(self, left: Mapping[int, int]) -> Availability:
        """The reading with the free seats of some slots set anew (slot id -> seats left).

        A slot not in this reading (full or unreleased when read) stays out of it; the memo
        is kept unless a slot crossed the line that decides pairing (room for 0, 1, 2)."""
        free = list(self.free)
        keep_memo = True
        for slot_id, seats in left.items():
            i = self.positions.get(slot_id)
            if i is None:
                continue
            slot = free[i]
            now_free = max(0, seats)
            free[i] = FreeSlot(slot.id, slot.starts_at, now_free)
            was, is_ = min(slot.free, MAX_SIDE_BY_SIDE), min(now_free, MAX_SIDE_BY_SIDE)
            keep_memo = keep_memo and was == is_
        memo = self.memo if keep_memo else {}
        return Availability(free, self.next_release_at, self.positions, memo, self.released)


@dataclass(frozen=True, slots=True)
class Alternative:
    centre: Centre
    distance_km: float
    free_offers: int


@dataclass(frozen=True, slots=True)
class OffersView:
    centre: Centre
    vaccine: Vaccine
    offers: list[Offer]
    next_release_at: datetime | None
    alternatives: list[Alternative]


class Inventory:
    def __init__(
        self, db: Database, clock: Clock, *, ttl_s: float = 1.0, catalogue_ttl_s: float = 5.0
    ) -> None:
        self.db = db
        self.clock = clock
        self._catalogue: TtlCache[Catalogue] = TtlCache(catalogue_ttl_s)
        self.availability_cache: TtlCache[Availability] = TtlCache(ttl_s)
        self._slot_infos: dict[int, tuple[float, SlotInfo]] = {}

    async def catalogue(self) -> Catalogue:
        async def load() -> Catalogue:
            async with self.db.read() as conn:
                return await repo.load_catalogue(conn)

        return await self._catalogue.get("catalogue", load)

    def forget_catalogue(self) -> None:
        self._catalogue.clear()

    async def availability_of(self, centre_id: int, vaccine_code: str) -> Availability:
        key = (centre_id, vaccine_code)

        async def load() -> Availability:
            catalogue = await self.catalogue()
            now = self.clock.now()
            last = self.availability_cache.last(key)
            async with self.db.read() as conn:
                release = await repo.next_release(conn, centre_id, vaccine_code, now)
                if last is not None:
                    seats = await repo.seats_left_at(
                        conn, centre_id, vaccine_code, now, catalogue.campaign
                    )
                    fresh = last.refreshed(seats, release)
                    if fresh is not None:
                        return fresh
                rows = await repo.bookable_slots(
                    conn, centre_id, vaccine_code, now, catalogue.campaign
                )
            return Availability.read(
                [free for free, _ in rows], release, [released for _, released in rows]
            )

        return await self.availability_cache.get(key, load)

    def slots_changed(self, centre_id: int, vaccine_code: str) -> None:
        self.availability_cache.drop((centre_id, vaccine_code))

    async def refresh_slots(self, centre_id: int, vaccine_code: str, ids: Sequence[int]) -> None:
        """After a lost race: read the seats left in these slots and put them into the cached
        reading, so the offers shown next leave out the slots that filled up, without
        re-reading the whole centre for every loser of a rush."""
        catalogue = await self.catalogue()
        async with self.db.read() as conn:
            left = await repo.seats_left(conn, ids, self.clock.now(), catalogue.campaign)
        self.availability_cache.replace(
            (centre_id, vaccine_code), lambda reading: reading.with_free(left)
        )

    def seats_taken(self, centre_id: int, vaccine_code: str, seats: Mapping[int, int]) -> None:
        """Count a booking this process just committed into the cached reading."""
        self.availability_cache.replace(
            (centre_id, vaccine_code), lambda reading: reading.with_taken(seats)
        )

    async def lookup(self, centre_id: int, vaccine_code: str) -> tuple[Centre, Vaccine]:
        catalogue = await self.catalogue()
        centre = catalogue.centres.get(centre_id)
        if centre is None:
            raise NotFound(
                f"there is no centre {centre_id}: see /api/v1/centres", code="unknown_centre"
            )
        vaccine = catalogue.vaccines.get(vaccine_code)
        if vaccine is None:
            known = ", ".join(sorted(catalogue.vaccines))
            raise InvalidInput(
                f"unknown vaccine {vaccine_code!r}: use one of {known}",
                code="unknown_vaccine",
                field="vaccine",
            )
        return centre, vaccine

    def vaccine_open(self, catalogue: Catalogue, vaccine_code: str) -> bool:
        now = self.clock.now()
        return any(c.is_open(now) and vaccine_code in c.vaccines for c in catalogue.cohorts)

    async def offers(
        self, centre_id: int, vaccine_code: str, persons: int = 1, limit: int = 10
    ) -> OffersView:
        centre, vaccine = await self.lookup(centre_id, vaccine_code)
        catalogue = await self.catalogue()
        if not self.vaccine_open(catalogue, vaccine_code):
            return OffersView(centre, vaccine, [], None, [])
        here = await self.availability_of(centre_id, vaccine_code)
        offers = here.memoised(
            ("offers", vaccine, persons, limit),
            partial(pair_offers, here.free, vaccine, persons, limit),
        )
        alternatives = [] if offers else await self.alternatives(centre, vaccine, persons)
        return OffersView(centre, vaccine, offers, here.next_release_at, alternatives)

    async def alternatives(
        self, near: Centre, vaccine: Vaccine, persons: int, allowed: set[int] | None = None
    ) -> list[Alternative]:
        """The nearest other centres that have offers now, nearest first."""
        catalogue = await self.catalogue()
        others = sorted(
            (
                c
                for c in catalogue.centres.values()
                if c.id != near.id and (allowed is None or c.id in allowed)
            ),
            key=lambda c: distance_km(near.lat, near.lon, c.lat, c.lon),
        )
        found: list[Alternative] = []
        for other in others:
            availability = await self.availability_of(other.id, vaccine.code)
            free = availability.offer_count(vaccine, persons)
            if free:
                km = round(distance_km(near.lat, near.lon, other.lat, other.lon), 1)
                found.append(Alternative(other, km, free))
                if len(found) == MAX_ALTERNATIVES:
                    break
        return found

    async def feed(self) -> list[tuple[Centre, Vaccine, int, datetime | None]]:
        """Free offers and next release for every centre and open vaccine: the public feed."""
        catalogue = await self.catalogue()
        rows = []
        for centre in catalogue.centres.values():
            for vaccine in catalogue.vaccines.values():
                if not self.vaccine_open(catalogue, vaccine.code):
                    continue
                availability = await self.availability_of(centre.id, vaccine.code)
                free = availability.offer_count(vaccine, 1)
                rows.append((centre, vaccine, free, availability.next_release_at))
        return rows

    async def slot_infos(self, ids: Sequence[int]) -> dict[int, SlotInfo]:
        """What a booking checks about its slots before it writes: centre, vaccine, start and
        release. Taken from the availability readings of the last minute (people book what
        they were offered), else read and kept per slot while availability is cached at all.

        A slot's centre, vaccine and start never change, and its release only goes from
        none to a minute. So what was known of a released slot (every slot in a reading was)
        is used for a minute; of any other slot for the availability TTL. The booking
        statement checks release and time window again in the database: a stale entry can
        only answer 409 where 422 was due, never book.
        """
        clock = time.monotonic()
        found = {i: e[1] for i in ids if (e := self._slot_infos.get(i)) and e[0] > clock}
        readings = self.availability_cache.items_since(RELEASED_SLOT_INFO_TTL_S)
        for (centre_id, vaccine_code), reading in readings:
            for i in ids:
                if i not in found and (info := reading.info(i, centre_id, vaccine_code)):
                    found[i] = info
        missing = [i for i in ids if i not in found]
        if missing:
            async with self.db.read() as conn:
                loaded = await repo.slot_infos(conn, missing)
            found.update(loaded)
            self._remember_slot_infos(loaded.values())
        return found

    def _remember_slot_infos(self, infos: Iterable[SlotInfo]) -> None:
        ttl = self.availability_cache.ttl_s
        if ttl <= 0:
            return
        if len(self._slot_infos) > MAX_CACHED_SLOT_INFOS:
            self._slot_infos.clear()
        clock, wall = time.monotonic(), self.clock.now()
        for info in infos:
            released = info.bookable_from is not None and info.bookable_from <= wall
            keep = max(ttl, RELEASED_SLOT_INFO_TTL_S) if released else ttl
            self._slot_infos[info.id] = (clock + keep, info)

    async def slot(self, slot_id: int) -> repo.SlotState:
        async with self.db.read() as conn:
            row = await repo.slot_state(conn, slot_id)
        if row is None:
            raise NotFound(f"there is no slot {slot_id}", code="unknown_slot")
        return row
