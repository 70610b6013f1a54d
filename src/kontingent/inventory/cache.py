"""The availability cache: a TTL cache whose concurrent misses share one load, and the
readings it keeps per centre and vaccine: free slots of one day, free seats per day.

Invariants kept here:
- A reading is never changed in place: a booking, a refresh or a message from another process
  makes a new reading (sharing the position index), so whatever was computed from the old one
  is never served for the new one by mistake.
- The memo of a reading (offers computed from it) survives a change only when no slot crossed
  the line between seating two persons, one and none, because that line alone decides which
  slots pair into offers.
- Dropping or replacing a key also forgets a load under way, which may have read the database
  before the change that caused it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from kontingent.inventory.model import FreeSlot

V = TypeVar("V")
T = TypeVar("T")
MAX_SIDE_BY_SIDE = 2  # most persons an offer seats in one slot (a couple)


class TtlCache(Generic[V]):
    """Values kept for `ttl_s` seconds; concurrent misses on one key share one load.

    `drop` also forgets a load under way: it may have read before the change that caused the
    drop, so callers after the drop start a new one and the old one's value is not kept.
    """

    def __init__(self, ttl_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.monotonic = monotonic  # seconds; tests pass a clock they move
        self._values: dict[Hashable, tuple[float, V]] = {}
        self._loading: dict[Hashable, asyncio.Future[V]] = {}
        self.hits = 0
        self.misses = 0

    async def get(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        entry = self._values.get(key)
        if entry is not None and entry[0] > self.monotonic():
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
            self._values[key] = (self.monotonic() + self.ttl_s, value)
        return value

    async def get_many(
        self,
        keys: Sequence[Hashable],
        load: Callable[[list[Hashable]], Awaitable[Mapping[Hashable, V]]],
    ) -> dict[Hashable, V]:
        """`get` for several keys, the missing ones loaded by one call of `load`, which must
        answer every key it is given: the same single flight as `get`, and the same rule that
        a load whose key was dropped or replaced meanwhile is not kept."""
        found: dict[Hashable, V] = {}
        pending: dict[Hashable, asyncio.Future[V]] = {}
        missing: list[Hashable] = []
        for key in keys:
            entry = self._values.get(key)
            if entry is not None and entry[0] > self.monotonic():
                self.hits += 1
                found[key] = entry[1]
            elif (waiting := self._loading.get(key)) is not None:
                self.hits += 1
                pending[key] = waiting
            else:
                missing.append(key)
        if missing:
            found.update(await self._load_many(missing, load))
        for key, waiting in pending.items():
            found[key] = await asyncio.shield(waiting)
        return found

    async def _load_many(
        self,
        keys: list[Hashable],
        load: Callable[[list[Hashable]], Awaitable[Mapping[Hashable, V]]],
    ) -> dict[Hashable, V]:
        self.misses += len(keys)
        loop = asyncio.get_running_loop()
        futures = {key: loop.create_future() for key in keys}
        self._loading.update(futures)
        try:
            values = dict(await load(keys))
        except BaseException as exc:
            for key, future in futures.items():
                if self._loading.get(key) is future:
                    del self._loading[key]
                future.set_exception(exc)
                future.exception()  # mark retrieved: waiters get it, nobody else must
            raise
        expires = self.monotonic() + self.ttl_s
        for key, future in futures.items():
            current = self._loading.get(key) is future
            if current:
                del self._loading[key]
            future.set_result(values[key])
            if self.ttl_s > 0 and current:
                self._values[key] = (expires, values[key])
        return values

    def drop(self, key: Hashable) -> None:
        self._values.pop(key, None)
        self._loading.pop(key, None)

    def last(self, key: Hashable) -> V | None:
        """The value kept for `key`, expired or not; None once dropped."""
        entry = self._values.get(key)
        return None if entry is None else entry[1]

    def items_since(self, age_s: float) -> list[tuple[Any, V]]:
        """The (key, value) pairs loaded at most `age_s` seconds ago, expired or not."""
        since = self.monotonic() - age_s + self.ttl_s
        return [(k, e[1]) for k, e in self._values.items() if e[0] > since]

    def replace(self, key: Hashable, change: Callable[[V], V]) -> None:
        """Swap a cached value for `change(value)`, keeping its expiry; a load under way is
        forgotten as by `drop`, since it may have read before the change."""
        entry = self._values.get(key)
        if entry is not None:
            self._values[key] = (entry[0], change(entry[1]))
        self._loading.pop(key, None)

    def expire(self, key: Hashable) -> None:
        """Let the next `get` load anew while `last` still offers the old value to build on.
        A load under way is kept: callers meanwhile share it instead of each starting one."""
        entry = self._values.get(key)
        if entry is not None and entry[0] > 0:
            self._values[key] = (0.0, entry[1])

    def clear(self) -> None:
        self._values.clear()
        self._loading.clear()

    def size(self) -> int:
        """Keys held, expired or not (a count for metrics)."""
        return len(self._values)


@dataclass(frozen=True, slots=True)
class Availability:
    """One reading of the free slots of a centre and vaccine on one day, in start order."""

    free: list[FreeSlot]
    # slot id -> its index in `free`; shared by the readings derived from this one.
    positions: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    # What was computed from this reading, by what and for whom.
    memo: dict[Hashable, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def read(cls, free: list[FreeSlot]) -> Availability:
        positions = {s.id: i for i, s in enumerate(free)}
        return cls(free, positions, {})

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
        return Availability(free, self.positions, memo)


@dataclass(frozen=True, slots=True)
class DaySeats:
    """Free seats per local day (keyed by `date.toordinal()`) of a centre and vaccine, read
    from `slot_days` for a range of days, with the next release minute ahead when read."""

    seats: dict[int, int]
    next_release_at: datetime | None = None

    def with_taken(self, taken: Mapping[int, int]) -> DaySeats:
        """After a booking took seats on some days (day ordinal -> seats)."""
        seats = dict(self.seats)
        for day, n in taken.items():
            if day in seats:
                seats[day] = max(0, seats[day] - n)
        return DaySeats(seats, self.next_release_at)


class FamilyCache(TtlCache[V]):
    """A TtlCache whose keys are (family, rest): a booking changes one centre and vaccine,
    so every reading of that family is found without looking at the others."""

    def __init__(self, ttl_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        super().__init__(ttl_s, monotonic)
        self._families: dict[Hashable, set[Hashable]] = {}

    async def get(self, key: Hashable, load: Callable[[], Awaitable[V]]) -> V:
        self._register(key)
        return await super().get(key, load)

    async def get_many(
        self,
        keys: Sequence[Hashable],
        load: Callable[[list[Hashable]], Awaitable[Mapping[Hashable, V]]],
    ) -> dict[Hashable, V]:
        for key in keys:
            self._register(key)
        return await super().get_many(keys, load)

    def _register(self, key: Hashable) -> None:
        assert isinstance(key, tuple) and len(key) == 2, "keys are (family, rest)"
        self._families.setdefault(key[0], set()).add(key)

    def keys_of(self, family: Hashable) -> list[Hashable]:
        return list(self._families.get(family, ()))

    def drop_family(self, family: Hashable) -> None:
        for key in self._families.pop(family, ()):
            self.drop(key)

    def expire_family(self, family: Hashable) -> None:
        for key in self._families.get(family, ()):
            self.expire(key)

    def fresh(self, key: Hashable) -> V | None:
        """The value kept for `key` while it has not expired; counts neither hit nor miss."""
        entry = self._values.get(key)
        return entry[1] if entry is not None and entry[0] > self.monotonic() else None

    def clear(self) -> None:
        super().clear()
        self._families.clear()
