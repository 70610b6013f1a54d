"""Reading the inventory: reference data, offers, alternatives and the public availability feed.

Invariants kept here:
- Offers come from bounded reads (offers.py, reads.py): the first free days from seats per
  day, the slots of those days only, and for each first dose the seats of its second-dose
  window and the slots of the days tried. Each read is cached per centre and vaccine for the
  TTL (the settled TTL while every other process's change reaches this cache, so that a key
  is read again when a change drops it, not every second), one load at a time per key, all
  reads of one answer on one connection; nothing reads every slot of a centre, so a refresh
  costs the same whatever the inventory on file. A booking never trusts the cache, it decides
  against the database, so a stale offer costs a 409 with fresh offers, never an overbooking.
- A booking made by this process is counted into the cached readings at once (the seats it
  took are subtracted from the day's slots and from the seats per day: new readings, so
  nothing keyed on the old ones is served); after a lost race the seats left in the slots it
  wanted are read and put in; a cancellation drops the centre and vaccine's readings, so the
  next read sees the database.
- Every such change is also announced (`announce`, set by the cross-process invalidation in
  invalidation.py when Redis is configured), and changes other processes announced are
  applied the same way (`apply_change`) without being announced again.
- The catalogue (centres, vaccines, cohorts, the booking window) is kept `catalogue_ttl_s`;
  an admin's change drops it, and every reading, here at once and in every other process
  through the same invalidation (`catalogue_changed`), or, without Redis (or a message
  lost), within `catalogue_check_s` through the catalogue's version in the database
  (catalogue_version.py: read at most once a second, one read at a time, off the path of
  every other request). Whether a cohort is open is decided per request against the
  clock, so a cohort opens at its minute wherever it was read.
- Readings whose next release minute has passed are read again, however long their TTL: a
  scheduled release changes slots without any process doing anything.
- The public feed is built from seats per day (feed.py), one build at a time, and kept for
  `feed_ttl_s` whatever bookings happen meanwhile: its readers are told how old it may be
  (Cache-Control), and rebuilding it per booking would put its cost on the booking path.
- Offers are computed once per set of readings they came from and kept while every one of
  them is current: pairing costs a fraction of a millisecond, reading a memo microseconds.
- The phone channel (`offers(..., phone=True)`, issue 15) reads its own cached readings,
  which count the seats reserved for it; everyone else's never do, and the feed never does.
  A booking's seats are subtracted from both kinds of reading alike: a phone booking that
  took reserved seats left the public ones as they were, so the public readings show fewer
  seats than there are until their next refresh. Shown too few, never too many.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial

from kontingent.booking.model import SlotInfo
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput, NotFound
from kontingent.inventory import catalogue_version
from kontingent.inventory import repository as repo
from kontingent.inventory.cache import Availability, DaySeats, FamilyCache, TtlCache
from kontingent.inventory.feed import FeedReading, read_feed
from kontingent.inventory.model import (
    Centre,
    Offer,
    Vaccine,
    count_day_offers,
    distance_km,
    local_day,
)
from kontingent.inventory.offers import HeldSeats, WithHeld, find_offers, last_bookable_day
from kontingent.inventory.pairing import DayRanges, OfferWish
from kontingent.inventory.reads import CachedReads, Dependency, Family
from kontingent.inventory.repository import Catalogue
from kontingent.inventory.slot_facts import SlotFacts

__all__ = ["Alternative", "Availability", "CacheStats", "Inventory", "OffersView", "SlotChange"]

MAX_ALTERNATIVES = 5
MAX_OFFER_MEMO = 10_000  # answers kept; a few per centre, vaccine and wish
COUNT_DAYS = 28  # an alternative's offer count: first doses in the next four weeks


@dataclass(frozen=True, slots=True)
class SlotChange:
    """Slots of a centre and vaccine changed: `taken` maps slot id -> seats a booking took;
    None means seats may also have come free (cancellation, rebooking, release).
    `catalogue`: the reference data changed (a centre, its hours or closed days), so every
    process reads it again at once rather than after its TTL; `version`: the catalogue's
    version that change made (catalogue_version.py), when known."""

    centre_id: int
    vaccine_code: str
    taken: Mapping[int, int] | None
    catalogue: bool = False
    version: int | None = None


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
        lead_minutes: int = 120,
        settled_ttl_s: float = 30.0,
        catalogue_check_s: float = catalogue_version.CHECK_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.clock = clock
        self.lead = timedelta(minutes=lead_minutes)
        # Centres, vaccines, cohorts and the window: read again after `catalogue_ttl_s`, or at
        # once when an admin's change reaches this process (`catalogue_changed`).
        self.catalogue_cache: TtlCache[Catalogue] = TtlCache(catalogue_ttl_s, monotonic)
        # Another process's change without Redis: the version, read at most once a second.
        self.catalogue_watch = catalogue_version.CatalogueWatch(
            self._catalogue_version, catalogue_check_s, monotonic
        )
        # How long readings are kept: `ttl_s` while changes of other processes may be missed,
        # `settled_ttl_s` while every change reaches this cache (see `invalidation_connected`).
        self._ttl_s = ttl_s
        self._settled_ttl_s = max(ttl_s, settled_ttl_s) if ttl_s > 0 else 0.0  # off stays off
        # The free slots of one day, keyed ((centre, vaccine), day ordinal).
        self.availability_cache: FamilyCache[Availability] = FamilyCache(ttl_s, monotonic)
        # Free seats per day over a range, keyed ((centre, vaccine), what was asked).
        self.days_cache: FamilyCache[DaySeats] = FamilyCache(ttl_s, monotonic)
        self._offers_memo: dict[Hashable, tuple[list[Dependency], list[Offer]]] = {}
        self._feed: TtlCache[FeedReading] = TtlCache(feed_ttl_s)
        # What bookings check about their slots, by slot id (slot_facts.py).
        self.slot_facts = SlotFacts(ttl_s, monotonic)
        # Where this process's slot changes go for the other processes; None: one process.
        self.announce: Callable[[SlotChange], None] | None = None
        # Whether other processes' changes can reach this cache at all (Redis configured),
        # and whether they do now (set by the listener); while not, the TTL bounds staleness.
        self.invalidation_enabled = False
        self._connected = False
        self.remote_changes = 0

    @property
    def invalidation_connected(self) -> bool:
        """Whether every change of another process reaches this cache now (the listener is
        subscribed). While it does, readings are kept `settled_ttl_s` instead of `ttl_s`:
        nothing but a change can make them wrong, and every change is applied as it comes
        (bookings counted in, cancellations and rebookings drop the readings, release
        minutes read again), so a key is read again when a change asks for it, not every
        second. The longer TTL only bounds how long seats a late message counted twice stay
        hidden ("too few, never too many")."""
        return self._connected

    @invalidation_connected.setter
    def invalidation_connected(self, connected: bool) -> None:
        if self._connected and not connected:
            self.forget_readings()  # kept for long on the promise of messages that stopped
        self._connected = connected
        ttl = self._settled_ttl_s if connected else self._ttl_s
        self.availability_cache.ttl_s = self.days_cache.ttl_s = ttl

    async def catalogue(self) -> Catalogue:
        async def load() -> Catalogue:
            async with self.db.read() as conn:
                return await repo.load_catalogue(conn)

        if self.catalogue_watch.due():
            await self.catalogue_checked()
        return await self.catalogue_cache.get("catalogue", load)

    async def catalogue_checked(self) -> None:
        """Read the catalogue's version when due; when another process changed the
        catalogue since, do here what its announcement would have done."""
        if await self.catalogue_watch.changed():
            self.catalogue_changed(announce=False, version=self.catalogue_watch.known)

    async def _catalogue_version(self) -> int:
        async with self.db.read() as conn:
            return await catalogue_version.read(conn)

    def forget_catalogue(self) -> None:
        self.catalogue_cache.clear()

    def catalogue_changed(self, *, announce: bool = True, version: int | None = None) -> None:
        """The reference data changed (admin/: centres, closed days, vaccines, cohorts, the
        booking window): read anew here, and in every other process once the announcement
        reaches it, or its check of the catalogue's version (`version`: the one the change
        made, catalogue_version.bump). Offers computed from the old catalogue go with it (a
        vaccine's interval, the window and closed days decide them)."""
        self.forget_catalogue()
        self.forget_readings()
        self._feed.clear()
        self.catalogue_watch.seen(version)
        if announce:
            self._announce(SlotChange(0, "", None, catalogue=True, version=version))

    def _family(self, centre_id: int, vaccine_code: str) -> Family:
        return (centre_id, vaccine_code)

    def reads(
        self, centre_id: int, vaccine_code: str, catalogue: Catalogue, *, phone: bool = False
    ) -> CachedReads:
        """The cached bounded reads of one centre and vaccine (offers.py's DaySource), of
        the seats the phone channel may take (`phone`) or of those everyone may."""
        return CachedReads(self, (centre_id, vaccine_code), catalogue, phone=phone)

    def _release_checked(self, family: Family) -> None:
        """When the next release minute read for `family` has passed, every reading of the
        family is read again (a scheduled release changes slots with nobody acting)."""
        kept = self.days_cache.last((family, "release"))
        if kept and kept.next_release_at and kept.next_release_at <= self.clock.now():
            self.days_cache.expire_family(family)
            self.availability_cache.expire_family(family)

    def release_checked(self, centre_id: int, vaccine_code: str) -> None:
        """`_release_checked` for readers other than `find` (the week view, week.py), which
        then read the next release minute through their own `CachedReads`."""
        self._release_checked(self._family(centre_id, vaccine_code))

    def slots_changed(self, centre_id: int, vaccine_code: str) -> None:
        """Seats may have come free (cancellation, rebooking, a contingent released now)."""
        self._forget(self._family(centre_id, vaccine_code))
        self._announce(SlotChange(centre_id, vaccine_code, None))

    def _forget(self, family: Family) -> None:
        self.availability_cache.drop_family(family)
        self.days_cache.drop_family(family)
        self.slot_facts.forget_family(family)

    async def refresh_slots(self, centre_id: int, vaccine_code: str, ids: Sequence[int]) -> None:
        """After a lost race: read the seats left in these slots and put them into the cached
        readings, so the offers shown next leave out the slots that filled up, without
        re-reading the centre for every loser of a rush."""
        catalogue = await self.catalogue()
        async with self.db.read() as conn:
            left = await repo.seats_left(conn, ids, self.clock.now(), catalogue.campaign)
        self._set_seats(self._family(centre_id, vaccine_code), left, taken=False)

    def seats_taken(self, centre_id: int, vaccine_code: str, seats: Mapping[int, int]) -> None:
        """Count a booking this process just committed into the cached readings."""
        self._set_seats(self._family(centre_id, vaccine_code), seats, taken=True)
        self._announce(SlotChange(centre_id, vaccine_code, dict(seats)))

    def _set_seats(self, family: Family, seats: Mapping[int, int], *, taken: bool) -> None:
        """Seats taken from (or, `taken` False, left in) some slots, put into the day readings
        that hold them and into the seats per day. A slot in no day reading here is on a day
        this process has not read: its seats per day are dropped, to be read again.

        The phone's readings and the public ones are kept apart (each day's seats change by
        what changed in that channel's reading of the day); seats left (`taken` False) are
        the public's, which the phone's readings take as well: too few, never too many."""
        by_day: dict[tuple[int, bool], int] = {}
        unknown = set(seats)
        for key in self.availability_cache.keys_of(family):
            reading = self.availability_cache.last(key)
            if reading is None:
                continue
            hit = {i: n for i, n in seats.items() if i in reading.positions}
            if not hit:
                continue
            before = {i: reading.free[reading.positions[i]].free for i in hit}
            after = {i: b - hit[i] if taken else hit[i] for i, b in before.items()}
            self.availability_cache.replace(key, partial(Availability.with_free, left=after))
            day: tuple[int, bool] = key[1]  # type: ignore[index]
            by_day[day] = by_day.get(day, 0) + sum(before[i] - max(0, after[i]) for i in hit)
            unknown -= hit.keys()
        if unknown:
            self.days_cache.drop_family(family)
            return
        for phone in (False, True):
            taken_days = {d: n for (d, p), n in by_day.items() if p is phone}
            for key in self.days_cache.keys_of(family):
                if _reads_phone(key) is phone:
                    self.days_cache.replace(key, partial(DaySeats.with_taken, taken=taken_days))

    def _announce(self, change: SlotChange) -> None:
        if self.announce is not None:
            self.announce(change)

    def apply_change(self, change: SlotChange) -> None:
        """A change another process announced: applied as if made here, not announced again.

        A booking's seats are subtracted from the readings rather than read anew (no database
        work per booking elsewhere); a reading loaded after that booking committed but before
        its message came counts the seats twice, showing fewer free seats than there are,
        until the next refresh. Shown too few, never too many.
        """
        family = self._family(change.centre_id, change.vaccine_code)
        if change.taken is None:
            self._forget(family)
        else:
            self._set_seats(family, change.taken, taken=True)
        self.remote_changes += 1

    def forget_readings(self) -> None:
        """Drop every reading: changes of other processes may have been missed."""
        self.availability_cache.clear()
        self.days_cache.clear()
        self._offers_memo.clear()
        self.slot_facts.clear()

    def cache_stats(self) -> CacheStats:
        slots, days = self.availability_cache, self.days_cache
        return CacheStats(
            slots.hits + days.hits,
            slots.misses + days.misses,
            slots.size() + days.size(),
            self.remote_changes,
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

    def earliest_start(self) -> datetime:
        """No offer starts before this: now plus the lead time, up to the next whole minute
        (slots start on whole minutes, and offers computed within a minute agree)."""
        at = self.clock.now() + self.lead
        whole = at.replace(second=0, microsecond=0)
        return whole if whole == at else whole + timedelta(minutes=1)

    async def offers(
        self,
        centre_id: int,
        vaccine_code: str,
        persons: int = 1,
        limit: int = 10,
        *,
        day: date | None = None,
        part: str | None = None,
        first_days: DayRanges | None = None,
        alternatives: bool = True,
        phone: bool = False,
    ) -> OffersView:
        """Offers of one centre and vaccine, and the nearest other centres with some when it
        has none. `phone`: for the phone channel (agents), counting the seats reserved for
        it; without it, only the seats everyone may book."""
        centre, vaccine = await self.lookup(centre_id, vaccine_code)
        catalogue = await self.catalogue()
        if not self.vaccine_open(catalogue, vaccine_code):
            return OffersView(centre, vaccine, [], None, [])
        try:
            wish = OfferWish(persons, limit, day, part, first_days)
        except ValueError as exc:
            raise InvalidInput(str(exc), code="invalid_part", field="part") from None
        offers, release = await self.find(catalogue, centre, vaccine, wish, phone=phone)
        others = []
        if not offers and alternatives:
            others = await self.alternatives(centre, vaccine, persons, phone=phone)
        return OffersView(centre, vaccine, offers, release, others)

    async def find(
        self,
        catalogue: Catalogue,
        centre: Centre,
        vaccine: Vaccine,
        wish: OfferWish,
        *,
        phone: bool = False,
        held: HeldSeats | None = None,
    ) -> tuple[list[Offer], datetime | None]:
        """Offers for `wish`, computed once per set of readings they came from: kept while
        every reading used is still the current one, recomputed when any was replaced.
        `held`: a booking being moved, whose own seats count as free (not kept: one caller's)."""
        family = (centre.id, vaccine.code)
        self._release_checked(family)
        earliest = self.earliest_start()
        key = (family, wish, earliest, phone)
        last_day = last_bookable_day(catalogue)
        closed = partial(catalogue.closures.closed, centre.id)
        own = held.of(*family) if held is not None else ()
        async with self.reads(centre.id, vaccine.code, catalogue, phone=phone) as reads:
            release = await reads.next_release()
            if own:
                source = WithHeld(reads, own, self.clock.now())
                return await find_offers(source, vaccine, wish, earliest, last_day, closed), release
            kept = self._offers_memo.get(key)
            if kept is not None and all(cache.fresh(k) is v for cache, k, v in kept[0]):
                return kept[1], release
            found = await find_offers(reads, vaccine, wish, earliest, last_day, closed)
        if len(self._offers_memo) >= MAX_OFFER_MEMO:
            self._offers_memo.clear()
        self._offers_memo[key] = (reads.used, found)
        return found, release

    async def offer_count(
        self, catalogue: Catalogue, centre: Centre, vaccine: Vaccine, *, phone: bool = False
    ) -> int:
        """Offers for one person that could all be booked at once with a first dose in the
        next COUNT_DAYS days (seats per day, `count_day_offers`); closed days count nothing."""
        lo = local_day(self.earliest_start())
        hi = lo + timedelta(days=COUNT_DAYS - 1 + vaccine.interval_max_days)
        async with self.reads(centre.id, vaccine.code, catalogue, phone=phone) as reads:
            seats = (await reads.seats(lo, hi)).seats
        open_seats = {
            d: n
            for d, n in seats.items()
            if not catalogue.closures.closed(centre.id, date.fromordinal(d))
        }
        return count_day_offers(open_seats, vaccine, first_until=lo.toordinal() + COUNT_DAYS - 1)

    async def alternatives(
        self,
        near: Centre,
        vaccine: Vaccine,
        persons: int,
        allowed: set[int] | None = None,
        *,
        phone: bool = False,
    ) -> list[Alternative]:
        """The nearest other centres that have offers now, nearest first, each with a count
        of the offers it could take at once."""
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
            wish = OfferWish(persons, 1)
            offers, _ = await self.find(catalogue, other, vaccine, wish, phone=phone)
            if offers:
                free = max(1, await self.offer_count(catalogue, other, vaccine, phone=phone))
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

        if self.catalogue_watch.due():
            await self.catalogue_checked()
        return await self._feed.get("feed", build)

    async def slot_infos(self, ids: Sequence[int]) -> dict[int, SlotInfo]:
        """What a booking checks about its slots before it writes: centre, vaccine, start and
        release (slot_facts.py). Known from the availability readings (people book what
        they were offered), else read: on PostgreSQL with the rest of those slots' day, so
        the next bookings there read nothing either."""
        found = self.slot_facts.known(ids)
        missing = [i for i in ids if i not in found]
        if missing:
            if self.db.has_driver:
                loaded = await self.db.run_driver(partial(repo.slot_infos_near_pg, ids=missing))
            else:
                async with self.db.read() as conn:
                    loaded = await repo.slot_infos(conn, missing)
            self.slot_facts.remember(loaded.values())
            found.update((i, loaded[i]) for i in missing if i in loaded)
        return found

    async def slot(self, slot_id: int) -> repo.SlotState:
        async with self.db.read() as conn:
            row = await repo.slot_state(conn, slot_id)
        if row is None:
            raise NotFound(f"there is no slot {slot_id}", code="unknown_slot")
        return row


def _reads_phone(key: Hashable) -> bool:
    """Whether a days_cache key ((family, tag)) is a reading for the phone channel: its tag
    ends with the flag, except the release minute's, which is the same for both."""
    tag = key[1]  # type: ignore[index]
    return isinstance(tag, tuple) and tag[-1] is True
