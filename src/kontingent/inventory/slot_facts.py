"""What a booking checks about its slots before it writes (centre, vaccine, start, release
minute), kept per process by slot id, so that a booking's plan reads no database.

Invariants kept here:
- A slot's centre, vaccine and start never change. Its release minute is set by a release,
  and whatever releases, moves or deletes slots says so through `Inventory.slots_changed`
  (or its message from another process), which forgets the facts of that centre and vaccine.
  So the facts of a slot with a release minute are kept until then; those of a slot with
  none yet only for the availability TTL, since a release may give it one at any moment.
- The booking statement checks release, start and window again in the database: a stale fact
  can turn a 422 into a 409, never book a seat that is not there.
- Bounded: past `MAX_FACTS` slots the store starts afresh (a few times the demo's slots).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence

from kontingent.booking.model import SlotInfo

MAX_FACTS = 500_000

Family = tuple[int, str]  # (centre id, vaccine code)


class SlotFacts:
    def __init__(self, ttl_s: float, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s  # how long the facts of a slot without a release minute are kept
        self.monotonic = monotonic
        self._facts: dict[int, tuple[float, SlotInfo]] = {}
        self._families: dict[Family, set[int]] = {}

    def known(self, ids: Sequence[int]) -> dict[int, SlotInfo]:
        """The facts held of `ids` (the others are missing)."""
        now = self.monotonic()
        return {i: e[1] for i in ids if (e := self._facts.get(i)) is not None and e[0] > now}

    def remember(self, infos: Iterable[SlotInfo]) -> None:
        if self.ttl_s <= 0:
            return  # caching is off (tests that change slots behind the service's back)
        if len(self._facts) > MAX_FACTS:
            self.clear()
        unreleased_until = self.monotonic() + self.ttl_s
        family: Family | None = None
        ids: set[int] = set()
        for info in infos:  # a reading's or a day's slots: one family after another
            keep = math.inf if info.bookable_from is not None else unreleased_until
            self._facts[info.id] = (keep, info)
            if family != (info.centre_id, info.vaccine_code):
                family = (info.centre_id, info.vaccine_code)
                ids = self._families.setdefault(family, set())
            ids.add(info.id)

    def forget_family(self, family: Family) -> None:
        for slot_id in self._families.pop(family, ()):
            self._facts.pop(slot_id, None)

    def clear(self) -> None:
        self._facts.clear()
        self._families.clear()

    def size(self) -> int:
        return len(self._facts)
