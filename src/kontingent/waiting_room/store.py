"""Where the queue lives: the `WaitingRoomStore` port, and its in-process adapter.

Invariants kept here (both adapters; the behaviour suite checks them against each):
- Every call is one atomic step: in memory one synchronous stretch with no await inside, in
  Redis one Lua script. Two processes can never admit the same credit twice or pop one ticket
  twice.
- A ticket is in exactly one state: waiting (ordered by score), admitted (until its deadline),
  expired (admission unused, remembered for an hour so its page can say so), or unknown.
- The store remembers the highest score it ever admitted (`top`) and, from when it was set
  up, a `floor`; their maximum is the bar (`Shared.bar`). A genuine ticket the store does not
  know and that scores above the bar was never admitted, so it can only have been lost with
  the store (a Redis restart without persistence): `poll` puts it back at its score, its old
  place. A ticket at or below the bar was admitted once and stays unknown.
- A store that holds no room (new, or come back empty) answers `join`, `poll` and `sync` with
  `StoreEmpty` and changes nothing, until a process has put back what it knows (`restore`:
  the floor, the count served, auto mode, the operator's settings), each only where nothing
  is stored yet, so a second process restoring changes nothing.
- Admission runs inside `join`, `poll` and `sync` (`_advance`): expired admissions first
  (their credit goes back unless the ticket was spent on a booking), then the bucket accrues
  and the front of the queue is admitted. Nothing runs in the background.
- `sync` also hands back the scores of every k-th waiting ticket (`Shared.front`, at most
  FRONT_SAMPLES), read in the same atomic step as the counts of waiting and served people.
- Time comes only from the callers' `now`; the stores never read a clock.
- A store that cannot be reached raises `StoreUnavailable`; the service fails closed on it.
- Spent tickets are marked (`mark_spent`) after their booking committed, only so that their
  expiry gives no credit back; which admission booked is the database's record, not this.
"""

from __future__ import annotations

import bisect
import heapq
import math
from dataclasses import dataclass, field
from typing import Literal, Protocol

from kontingent.waiting_room.model import (
    AUTO_WINDOW_S,
    FRONT_SAMPLES,
    KEEP_S,
    OVERLOAD_WINDOW_S,
    WINDOW_S,
    Bucket,
    Mode,
    RoomConfig,
    accrue,
    auto_decision,
    quiet_seconds,
)

EXPIRED_KEEP_S = 3600.0
# At most this many admissions (and expiries) per step: bounds one Lua script's work.
MAX_PER_STEP = 1000
Status = Literal["waiting", "admitted", "expired", "unknown"]


class StoreUnavailable(Exception):
    """The waiting room's store could not be asked."""


class StoreEmpty(StoreUnavailable):
    """The store holds no room: it is new or came back empty. Unless a process restores it
    (`WaitingRoomStore.restore`) it counts as unavailable: the room fails closed."""


@dataclass(frozen=True, slots=True)
class Step:
    """What the caller knows about admitting at `now` (computed from its cached config)."""

    now: float
    admitting: bool
    rate: float
    ttl_s: float
    opens_at: float | None


@dataclass(frozen=True, slots=True)
class TicketState:
    status: Status
    rank: int | None = None  # people ahead, while waiting
    deadline: float | None = None  # while admitted
    served: int = 0
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class Shared:
    """The room as all processes see it, read once a second by each."""

    config: RoomConfig | None  # None: no operator setting stored, use the settings
    auto_on: bool
    auto_since: float | None
    admit_counts: list[int]  # admissions per second over the last WINDOW_S seconds
    bookings_in_window: int
    waiting: int
    served: int
    expired: int
    recycled: int
    # Scores of the waiting tickets at ranks 0, front_every, 2 * front_every, ... (ascending).
    front: tuple[float, ...] = ()
    front_every: int = 1
    # Whole seconds since any process last refused a request as overloaded, if that was
    # within OVERLOAD_WINDOW_S seconds (`model.quiet_seconds`).
    overload_quiet_s: int | None = None
    # Unknown tickets scoring above this rejoin at their score (see the module doc).
    bar: float = -math.inf


@dataclass(frozen=True, slots=True)
class Restore:
    """What a process puts back into a store that holds no room; each part only where the
    store holds nothing yet."""

    floor: float  # unknown tickets scoring above it (and above `top`) rejoin
    served: int
    auto_on: bool
    auto_since: float | None
    hold_until: float  # auto mode stays on until then: the waiting rejoin as they next ask
    config: RoomConfig | None  # None: no operator setting, the environment's settings apply
    # Until then a lost ticket above `floor` rejoins even below `top`: those who ask first
    # rejoin and are admitted, which lifts `top` over the waiting who have not asked yet.
    rejoin_until: float = 0.0


@dataclass(frozen=True, slots=True)
class Handover:
    """What one process counted since its last sync, added to the shared per-second counts."""

    attempts: int = 0  # guarded requests: the load auto mode watches
    bookings: int = 0  # finished bookings: the sustained-rate cap
    overloads: int = 0  # requests refused as overloaded: the overload cut


def sample_every(waiting: int) -> int:
    """The rank distance between the samples of `Shared.front`."""
    return max(1, -(-waiting // FRONT_SAMPLES))


class WaitingRoomStore(Protocol):
    async def join(self, ticket: str, score: float, step: Step) -> TicketState: ...

    async def poll(self, ticket: str, score: float | None, step: Step) -> TicketState:
        """Where `ticket` stands; `score`: what the genuine ticket carries (None for any
        other), so that one the store lost rejoins at its place."""
        ...

    async def sync(self, step: Step, counts: Handover, threshold: float, auto: bool) -> Shared:
        """Add this process's counts, decide auto mode, admit, and read the shared state."""
        ...

    async def restore(self, restore: Restore) -> bool:
        """Set up a store that holds no room; False when it holds one (nothing changed)."""
        ...

    async def mark_spent(self, ticket: str, now: float, keep_s: float) -> None:
        """`ticket`'s admission was used for a booking: its expiry gives no credit back."""
        ...

    async def save_config(self, config: RoomConfig) -> None: ...

    async def aclose(self) -> None: ...


def encode_config(config: RoomConfig) -> dict[str, str]:
    return {
        "mode": config.mode.value,
        "opens_at": "" if config.opens_at is None else repr(config.opens_at),
        "rate": repr(config.rate),
        "ttl_s": repr(config.ttl_s),
        "threshold": repr(config.threshold),
    }


def encode_stored(config: RoomConfig | None) -> dict[str, str]:
    """`encode_config`, or a mark that no operator setting is stored (`decode_config` gives
    None for it): an empty `mode`."""
    return {"mode": ""} if config is None else encode_config(config)


def decode_config(raw: dict[str, str]) -> RoomConfig | None:
    if not raw.get("mode"):
        return None
    return RoomConfig(
        mode=Mode(raw["mode"]),
        opens_at=float(raw["opens_at"]) if raw.get("opens_at") else None,
        rate=float(raw["rate"]),
        ttl_s=float(raw["ttl_s"]),
        threshold=float(raw["threshold"]),
    )


def window(counts: dict[int, int], now: float, seconds: int) -> list[int]:
    """Counts of the `seconds` whole seconds before the current one, oldest first."""
    second = math.floor(now)
    return [counts.get(s, 0) for s in range(second - seconds, second)]


@dataclass
class _Room:
    order: list[tuple[float, str]] = field(default_factory=list)  # waiting, from `head`
    head: int = 0
    scores: dict[str, float] = field(default_factory=dict)
    admitted: dict[str, float] = field(default_factory=dict)  # ticket -> deadline
    deadlines: list[tuple[float, str]] = field(default_factory=list)  # heap of admitted
    expired: dict[str, float] = field(default_factory=dict)  # ticket -> when
    spent: dict[str, float] = field(default_factory=dict)  # ticket -> kept until
    bucket: Bucket | None = None
    served: int = 0
    expired_total: int = 0
    recycled: int = 0
    auto_on: bool = False
    auto_since: float | None = None
    admissions: dict[int, int] = field(default_factory=dict)
    bookings: dict[int, int] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)
    overloads: dict[int, int] = field(default_factory=dict)
    config: RoomConfig | None = None
    config_stored: bool = False  # False: not even "none" (the store came up empty)
    floor: float | None = None  # None: the store holds no room yet (`restore`)
    rejoin_until: float = 0.0  # see Restore
    top: float = -math.inf  # the highest score admitted
    auto_hold: float = 0.0


class MemoryWaitingRoom:
    """The queue in this process: right for one process (embedded mode) and for tests.
    Methods are async for the port's sake but never await: each is one atomic step."""

    def __init__(self) -> None:
        self._r = _Room()

    @property
    def waiting(self) -> int:
        return len(self._r.order) - self._r.head

    def _rank(self, ticket: str) -> int:
        item = (self._r.scores[ticket], ticket)
        return bisect.bisect_left(self._r.order, item, lo=self._r.head) - self._r.head

    def _ready(self) -> None:
        if self._r.floor is None:
            raise StoreEmpty("the queue holds no room")

    def _bar(self) -> float:
        floor = self._r.floor
        return max(-math.inf if floor is None else floor, self._r.top)

    def _rejoin_bar(self, now: float) -> float:
        """The bar a lost ticket must score above to rejoin (see Restore.rejoin_until)."""
        floor = self._r.floor
        if now < self._r.rejoin_until and floor is not None:
            return floor
        return self._bar()

    def _pop_front(self) -> str:
        r = self._r
        score, ticket = r.order[r.head]
        r.top = max(r.top, score)
        r.head += 1
        del r.scores[ticket]
        if r.head > 1024 and r.head * 2 > len(r.order):
            r.order, r.head = r.order[r.head :], 0
        return ticket

    def _expire(self, now: float) -> None:
        r, done = self._r, 0
        while r.deadlines and r.deadlines[0][0] <= now and done < MAX_PER_STEP:
            _, ticket = heapq.heappop(r.deadlines)
            del r.admitted[ticket]
            r.expired[ticket] = now
            r.expired_total += 1
            done += 1
            if ticket not in r.spent and r.bucket is not None:
                r.bucket = Bucket(r.bucket.credit + 1, r.bucket.at)
                r.recycled += 1

    def _forget_old(self, now: float) -> None:
        r = self._r
        r.expired = {t: at for t, at in r.expired.items() if at >= now - EXPIRED_KEEP_S}
        r.spent = {t: until for t, until in r.spent.items() if until > now}

    def _advance(self, step: Step) -> None:
        r = self._r
        if r.bucket is None:
            r.bucket = Bucket(0.0, step.now)
        self._expire(step.now)
        if not step.admitting:
            r.bucket = Bucket(r.bucket.credit, step.now)
            return
        start = max(r.bucket.at, step.opens_at if step.opens_at is not None else -math.inf)
        bucket = accrue(Bucket(r.bucket.credit, start), step.now, step.rate, self.waiting)
        count = min(math.floor(bucket.credit + 1e-9), self.waiting, MAX_PER_STEP)
        for _ in range(count):
            ticket = self._pop_front()
            r.admitted[ticket] = step.now + step.ttl_s
            heapq.heappush(r.deadlines, (step.now + step.ttl_s, ticket))
        credit = bucket.credit - count
        if self.waiting == 0:
            credit = min(credit, max(1.0, step.rate))
        r.bucket = Bucket(credit, bucket.at)
        r.served += count
        if count:
            second = math.floor(step.now)
            r.admissions[second] = r.admissions.get(second, 0) + count

    def _state(self, ticket: str) -> TicketState:
        r = self._r
        if ticket in r.scores:
            return TicketState("waiting", self._rank(ticket), None, r.served, self.waiting)
        if ticket in r.admitted:
            return TicketState("admitted", None, r.admitted[ticket], r.served, self.waiting)
        status: Status = "expired" if ticket in r.expired else "unknown"
        return TicketState(status, None, None, r.served, self.waiting)

    async def join(self, ticket: str, score: float, step: Step) -> TicketState:
        self._ready()
        if ticket not in self._r.scores:
            bisect.insort(self._r.order, (score, ticket), lo=self._r.head)
            self._r.scores[ticket] = score
        self._advance(step)
        return self._state(ticket)

    async def poll(self, ticket: str, score: float | None, step: Step) -> TicketState:
        self._ready()
        r = self._r
        lost = ticket not in r.scores and ticket not in r.admitted and ticket not in r.expired
        if score is not None and lost and score > self._rejoin_bar(step.now):
            bisect.insort(r.order, (score, ticket), lo=r.head)  # back at its old place
            r.scores[ticket] = score
        self._advance(step)
        return self._state(ticket)

    async def sync(self, step: Step, counts: Handover, threshold: float, auto: bool) -> Shared:
        self._ready()
        r, second = self._r, math.floor(step.now)
        handed = (
            (r.attempts, counts.attempts),
            (r.bookings, counts.bookings),
            (r.overloads, counts.overloads),
        )
        for per_second, count in handed:
            per_second[second] = per_second.get(second, 0) + count
        for per_second in (r.attempts, r.bookings, r.admissions, r.overloads):
            for old in [s for s in per_second if s < second - KEEP_S]:
                del per_second[old]
        self._forget_old(step.now)
        if auto:
            load = sum(window(r.attempts, step.now, AUTO_WINDOW_S)) / AUTO_WINDOW_S
            held = step.now < r.auto_hold
            on = auto_decision(r.auto_on, load, self.waiting, threshold, held)
            if on and not r.auto_on:
                r.auto_since = step.now
            r.auto_on = on
        self._advance(step)
        every = sample_every(self.waiting)
        return Shared(
            config=r.config,
            auto_on=r.auto_on,
            auto_since=r.auto_since,
            admit_counts=window(r.admissions, step.now, WINDOW_S),
            bookings_in_window=sum(window(r.bookings, step.now, WINDOW_S)),
            waiting=self.waiting,
            served=r.served,
            expired=r.expired_total,
            recycled=r.recycled,
            front=tuple(score for score, _ in r.order[r.head :: every]),
            front_every=every,
            overload_quiet_s=quiet_seconds(window(r.overloads, step.now + 1, OVERLOAD_WINDOW_S)),
            bar=self._bar(),
        )

    async def restore(self, restore: Restore) -> bool:
        r = self._r
        if r.floor is not None:
            return False
        r.floor, r.served = restore.floor, r.served or restore.served
        if restore.auto_on and not r.auto_on:
            r.auto_on, r.auto_since = True, restore.auto_since
        r.auto_hold = restore.hold_until
        r.rejoin_until = restore.rejoin_until
        if not r.config_stored:
            r.config, r.config_stored = restore.config, True
        return True

    async def mark_spent(self, ticket: str, now: float, keep_s: float) -> None:
        self._r.spent[ticket] = now + keep_s

    async def save_config(self, config: RoomConfig) -> None:
        self._r.config, self._r.config_stored = config, True

    async def aclose(self) -> None:
        return None
