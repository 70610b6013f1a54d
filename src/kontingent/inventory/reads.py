"""The bounded reads offers are made of (offers.py's DaySource), each kept in the inventory's
caches and remembered as used, so that offers computed from them are kept exactly as long as
every one of them is still the current reading.

Invariants kept here:
- Each read is one bounded query (days.py) per key and TTL, however many ask at once (the
  caches single-flight per key); the reads of one answer share one connection, taken at its
  first miss and given back when the answer is made (`async with`).
- The keys say exactly what was asked (range of days, persons, and whether the phone
  channel asks: its readings count the seats reserved for it, issue 15), so two answers
  never share a reading that holds less than either needs, and the public never sees a
  reading made for the phone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Hashable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.booking.model import SlotInfo
from kontingent.inventory import days as day_repo
from kontingent.inventory import repository as repo
from kontingent.inventory.cache import Availability, DaySeats, FamilyCache
from kontingent.inventory.offers import FIRST_DAYS_PAGE, first_day_range, last_bookable_day
from kontingent.inventory.pairing import OfferWish
from kontingent.inventory.repository import Catalogue

if TYPE_CHECKING:
    from kontingent.inventory.service import Inventory

Family = tuple[int, str]  # (centre id, vaccine code)
Dependency = tuple[FamilyCache[Any], Hashable, object]


def release_key(family: Family) -> Hashable:
    """The days cache's key of a family's next release minute (the same for both channels)."""
    return (family, "release")


def first_days_tag(first: date, last: date, persons: int, phone: bool) -> Hashable:
    return ("first", first.toordinal(), last.toordinal(), persons, phone)


async def read_ahead(
    inventory: Inventory,
    catalogue: Catalogue,
    centre_ids: Sequence[int],
    vaccine_code: str,
    wish: OfferWish,
    *,
    phone: bool,
) -> set[int]:
    """The centres with a first free day for `wish` (the vaccine's, in the days `find`
    would look at): what `CachedReads.first_days` and `next_release` would read first for
    each, read for all of them in one query each (on one connection) and kept as each
    centre's own readings. Offers asked of those centres next read neither again, and a
    centre without a free day need not be asked at all. Readings still kept are not read
    again; those a passed release minute made stale are, as `find` would."""
    first, last = first_day_range(wish, inventory.earliest_start(), last_bookable_day(catalogue))
    if first > last:
        return set()
    for centre_id in centre_ids:
        inventory.release_checked(centre_id, vaccine_code)
    async with AsyncExitStack() as stack:
        conn: AsyncConnection | None = None

        async def connection() -> AsyncConnection:
            nonlocal conn
            if conn is None:
                conn = await stack.enter_async_context(inventory.db.read())
            return conn

        async def releases(keys: list[Hashable]) -> dict[Hashable, DaySeats]:
            ids = [_centre_of(key) for key in keys]
            found = await repo.next_release_of(await connection(), ids, vaccine_code, now)
            return {key: DaySeats({}, found[i]) for key, i in zip(keys, ids, strict=True)}

        async def days(keys: list[Hashable]) -> dict[Hashable, DaySeats]:
            ids = [_centre_of(key) for key in keys]
            found = await day_repo.first_free_days_of(
                await connection(), ids, vaccine_code, first, last, now, wish.persons,
                FIRST_DAYS_PAGE, phone=phone,
            )  # fmt: skip
            return {key: DaySeats(found[i]) for key, i in zip(keys, ids, strict=True)}

        now = inventory.clock.now()
        families = [(c, vaccine_code) for c in centre_ids]
        cache = inventory.days_cache
        await cache.get_many([release_key(f) for f in families], releases)
        tag = first_days_tag(first, last, wish.persons, phone)
        read = await cache.get_many([(f, tag) for f in families], days)
    return {c for c, f in zip(centre_ids, families, strict=True) if read[(f, tag)].seats}


def _centre_of(key: Hashable) -> int:
    centre_id: int = key[0][0]  # type: ignore[index]
    return centre_id


class CachedReads:
    def __init__(
        self, inventory: Inventory, family: Family, catalogue: Catalogue, *, phone: bool = False
    ) -> None:
        self.inventory = inventory
        self.family = family
        self.catalogue = catalogue
        self.phone = phone
        self.used: list[Dependency] = []
        self._stack: AsyncExitStack | None = None
        self._conn: AsyncConnection | None = None

    async def __aenter__(self) -> CachedReads:
        self._stack = AsyncExitStack()
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._stack is not None:
            await self._stack.aclose()
        self._stack = self._conn = None

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        """One connection for every read of one answer, taken at the first miss: a refresh
        reads several times, and taking a connection costs more than a small read."""
        if self._stack is None:
            raise RuntimeError("read through CachedReads inside `async with`: one connection")
        if self._conn is None:
            self._conn = await self._stack.enter_async_context(self.inventory.db.read())
        yield self._conn

    async def next_release(self) -> datetime | None:
        """The family's next release minute ahead (the service reads all again once it passed)."""

        async def load() -> DaySeats:
            async with self._read() as conn:
                at = await repo.next_release(conn, *self.family, self.inventory.clock.now())
            return DaySeats({}, at)

        cache = self.inventory.days_cache
        return (await cache.get(release_key(self.family), load)).next_release_at

    async def first_days(self, first: date, last: date, persons: int) -> DaySeats:
        async def load() -> DaySeats:
            async with self._read() as conn:
                seats = await day_repo.first_free_days(
                    conn, *self.family, first, last, self.inventory.clock.now(), persons,
                    FIRST_DAYS_PAGE, phone=self.phone,
                )  # fmt: skip
            return DaySeats(seats)

        return await self._days(first_days_tag(first, last, persons, self.phone), load)

    async def seats(self, first: date, last: date) -> DaySeats:
        async def load() -> DaySeats:
            async with self._read() as conn:
                seats = await day_repo.seats_by_day(
                    conn, *self.family, first, last, self.inventory.clock.now(), phone=self.phone
                )
            return DaySeats(seats)

        key = ("seats", first.toordinal(), last.toordinal(), self.phone)
        return await self._days(key, load)

    async def _days(self, tag: Hashable, load: Any) -> DaySeats:
        cache = self.inventory.days_cache
        key = (self.family, tag)
        value = await cache.get(key, load)
        self.used.append((cache, key, value))
        return value

    async def slots(self, day: date) -> Availability:
        async def load() -> Availability:
            return (await self._load_days([day]))[0]

        cache = self.inventory.availability_cache
        key = self._day_key(day)
        value = await cache.get(key, load)
        self.used.append((cache, key, value))
        return value

    async def prefetch(self, days: Sequence[date]) -> None:
        """Read the slots of those of `days` not kept yet in one statement; `slots` finds
        them kept (and counts them as used then: a day prefetched but never asked for is not
        a dependency of the answer)."""
        cache = self.inventory.availability_cache
        if cache.ttl_s <= 0 or len(days) < 2:
            return  # nothing would be kept for `slots` to find

        async def load(keys: list[Hashable]) -> dict[Hashable, Availability]:
            wanted = [date.fromordinal(key[1][0]) for key in keys]  # type: ignore[index]
            return dict(zip(keys, await self._load_days(wanted), strict=True))

        keys = [self._day_key(day) for day in days[: day_repo.MAX_DAYS_TOGETHER]]
        await cache.get_many(keys, load)

    def _day_key(self, day: date) -> Hashable:
        return (self.family, (day.toordinal(), self.phone))

    async def _load_days(self, days: Sequence[date]) -> list[Availability]:
        async with self._read() as conn:
            found = await day_repo.days_slots(
                conn, *self.family, days, self.inventory.clock.now(), self.catalogue.campaign,
                phone=self.phone,
            )  # fmt: skip
        centre_id, vaccine_code = self.family
        readings = []
        for rows in found:
            self.inventory.slot_facts.remember(
                SlotInfo(free.id, centre_id, vaccine_code, free.starts_at, at) for free, at in rows
            )
            readings.append(Availability.read([free for free, _ in rows]))
        return readings
