"""The bounded reads offers are made of (offers.py's DaySource), each kept in the inventory's
caches and remembered as used, so that offers computed from them are kept exactly as long as
every one of them is still the current reading.

Invariants kept here:
- Each read is one bounded query (days.py) per key and TTL, however many ask at once (the
  caches single-flight per key).
- The keys say exactly what was asked (range of days, persons, and whether the phone
  channel asks: its readings count the seats reserved for it, issue 15), so two answers
  never share a reading that holds less than either needs, and the public never sees a
  reading made for the phone.
"""

from __future__ import annotations

from collections.abc import Hashable
from datetime import date
from typing import TYPE_CHECKING, Any

from kontingent.inventory import days as day_repo
from kontingent.inventory.cache import Availability, DaySeats, FamilyCache
from kontingent.inventory.offers import FIRST_DAYS_PAGE
from kontingent.inventory.repository import Catalogue

if TYPE_CHECKING:
    from kontingent.inventory.service import Inventory

Family = tuple[int, str]  # (centre id, vaccine code)
Dependency = tuple[FamilyCache[Any], Hashable, object]


class CachedReads:
    def __init__(
        self, inventory: Inventory, family: Family, catalogue: Catalogue, *, phone: bool = False
    ) -> None:
        self.inventory = inventory
        self.family = family
        self.catalogue = catalogue
        self.phone = phone
        self.used: list[Dependency] = []

    async def first_days(self, first: date, last: date, persons: int) -> DaySeats:
        async def load() -> DaySeats:
            async with self.inventory.db.read() as conn:
                seats = await day_repo.first_free_days(
                    conn, *self.family, first, last, self.inventory.clock.now(), persons,
                    FIRST_DAYS_PAGE, phone=self.phone,
                )  # fmt: skip
            return DaySeats(seats)

        key = ("first", first.toordinal(), last.toordinal(), persons, self.phone)
        return await self._days(key, load)

    async def seats(self, first: date, last: date) -> DaySeats:
        async def load() -> DaySeats:
            async with self.inventory.db.read() as conn:
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
            async with self.inventory.db.read() as conn:
                rows = await day_repo.day_slots(
                    conn, *self.family, day, self.inventory.clock.now(), self.catalogue.campaign,
                    phone=self.phone,
                )  # fmt: skip
            return Availability.read([free for free, _ in rows], [at for _, at in rows])

        cache = self.inventory.availability_cache
        key = (self.family, (day.toordinal(), self.phone))
        value = await cache.get(key, load)
        self.used.append((cache, key, value))
        return value
