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
- Every such change is also announced (`announce`, set by the cross-process invalidation in
  invalidation.py when Redis is configured), and changes other processes announced are
  applied the same way (`apply_change`) without being announced again.
- A reading whose next release minute has passed is read again, however long its TTL: a
  scheduled release changes slots without any process doing anything.
- The public feed is built from seats per day (feed.py), one build at a time, and kept for
  `feed_ttl_s` whatever bookings happen meanwhile: its readers are told how old it may be
  (Cache-Control), and rebuilding it per booking would put its cost on the booking path.
- Offers and offer counts are computed once per reading and kept with it: pairing thousands of
  free slots costs milliseconds, reading a memo microseconds. A memo survives a booking's
  subtraction only when no slot crossed the line between seating two persons, one and none,
  because that line alone decides which slots pair into offers.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from kontingent.booking.model import SlotInfo
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput, NotFound
from kontingent.inventory import repository as repo
from kontingent.inventory.cache import Availability, TtlCache
from kontingent.inventory.feed import FeedReading, read_feed
from kontingent.inventory.model import Centre, Offer, Vaccine, distance_km, pair_offers
from kontingent.inventory.repository import Catalogue

__all__ = ["Alternative", "Availability", "CacheStats", "Inventory", "OffersView", "SlotChange"]

MAX_ALTERNATIVES = 5
MAX_CACHED_SLOT_INFOS = 200_000  # a few times the slots of the demo; then start afresh
RELEASED_SLOT_INFO_TTL_S = 60.0


@dataclass(frozen=True, slots=True)
class SlotChange:
    """Slots of a centre and vaccine changed: `taken` maps slot id -> seats a booking took;
    None means seats may also have come free (cancellation, rebooking, release)."""

    centre_id: int
    vaccine_code: str
    taken: Mapping[int, int] | None


@dataclass(frozen=True, slots=True)
class CacheStats:
    """What the metrics read: availability cache hits and misses (a miss is one database
    read), readings held, and changes applied that other processes announced."""

    hits: int
    misses: int
    readings: int
    remote_changes: int


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
        self,
        db: Database,
        clock: Clock,
        *,
        ttl_s: float = 1.0,
        catalogue_ttl_s: float = 5.0,
        feed_ttl_s: float = 5.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self._catalogue: TtlCache[Catalogue] = TtlCache(catalogue_ttl_s)
        self.availability_cache: TtlCache[Availability] = TtlCache(ttl_s)
        self._feed: TtlCache[FeedReading] = TtlCache(feed_ttl_s)
        self._slot_infos: dict[int, tuple[float, SlotInfo]] = {}
        # Where this process's slot changes go for the other processes; None: one process.
        self.announce: Callable[[SlotChange], None] | None = None
        # Whether other processes' changes can reach this cache at all (Redis configured),
        # and whether they do now (set by the listener); while not, the TTL bounds staleness.
        self.invalidation_enabled = False
        self.invalidation_connected = False
        self.remote_changes = 0

    async def catalogue(self) -> Catalogue:
        async def load() -> Catalogue:
            async with self.db.read() as conn:
                return await repo.load_catalogue(conn)

        return await self._catalogue.get("catalogue", load)

    def forget_catalogue(self) -> None:
        self._catalogue.clear()

    async def availability_of(self, centre_id: int, vaccine_code: str) -> Availability:
        key = (centre_id, vaccine_code)
        kept = self.availability_cache.last(key)
        if kept is not None and kept.next_release_at and kept.next_release_at <= self.clock.now():
            self.availability_cache.expire(key)  # released meanwhile: read, building on it

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
        """Seats may have come free (cancellation, rebooking, a contingent released now)."""
        self.availability_cache.drop((centre_id, vaccine_code))
        self._announce(SlotChange(centre_id, vaccine_code, None))

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
        self._announce(SlotChange(centre_id, vaccine_code, dict(seats)))

    def _announce(self, change: SlotChange) -> None:
        if self.announce is not None:
            self.announce(change)

    def apply_change(self, change: SlotChange) -> None:
        """A change another process announced: applied as if made here, not announced again.

        A booking's seats are subtracted from the reading rather than read anew (no database
        work per booking elsewhere); a reading loaded after that booking committed but before
        its message came counts the seats twice, showing fewer free seats than there are,
        until the next refresh. Shown too few, never too many.
        """
        key = (change.centre_id, change.vaccine_code)
        taken = change.taken
        if taken is None:
            self.availability_cache.drop(key)
        else:
            self.availability_cache.replace(key, lambda reading: reading.with_taken(taken))
        self.remote_changes += 1

    def forget_readings(self) -> None:
        """Drop every reading: changes of other processes may have been missed."""
        self.availability_cache.clear()

    def cache_stats(self) -> CacheStats:
        cache = self.availability_cache
        return CacheStats(cache.hits, cache.misses, cache.size(), self.remote_changes)

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

    async def feed(self) -> FeedReading:
        """The public feed: one build at a time, kept `feed_ttl_s` (see feed.py)."""

        async def build() -> FeedReading:
            catalogue = await self.catalogue()
            return await read_feed(
                self.db,
                catalogue,
                self.clock.now(),
                partial(self.vaccine_open, catalogue),
            )

        return await self._feed.get("feed", build)

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
        missing = [i for i in ids if i not in found]
        if missing:
            for (centre_id, vaccine_code), reading in self.availability_cache.items_since(
                RELEASED_SLOT_INFO_TTL_S
            ):
                for i in missing:
                    if info := reading.info(i, centre_id, vaccine_code):
                        found[i] = info
                missing = [i for i in missing if i not in found]
                if not missing:  # an offer's slots are usually all in one reading
                    break
        if missing:
            if self.db.has_driver:
                loaded = await self.db.run_driver(partial(repo.slot_infos_pg, ids=missing))
            else:
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
