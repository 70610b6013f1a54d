"""The waiting room's use cases: join, ask where one stands, pass the door with an admission,
spend it on a booking, and let operators change the room at run time.

Invariants kept here:
- Fails closed: while the store cannot be reached nobody is admitted and joins and polls
  answer 503 with Retry-After (`WaitingRoomPaused`). Admissions already granted stay valid
  until their expiry (they are checked with the key alone), and each still books once: the
  booking records its admission in the database (`bookings.admission`, unique).
- A room that cannot read its settings stays closed, never open: until this process has
  read them (from the store, or from the database while the store is down) it guards and
  admits nobody (`_known`).
- A store that came back empty (a Redis restart) is set up again before it is used
  (`_asked`, recovery.py), and a waiting person's next poll puts their ticket back at its
  old place (store.py): "your place is kept" stays true.
- Only the front of the line is asked about in the store. A poll from far back (`_far_back`)
  is answered from the snapshot: its ticket carries its score, signed (tokens.py), and the
  snapshot holds the scores of every k-th waiting ticket. A ticket the queue did not hand
  out is refused without asking the store. Admission tokens come only from the store.
- The door (`require`) never asks the store: it checks the token's signature and expiry,
  and reads whether the room guards from a snapshot that each process refreshes from the
  store at most once per second (`_refresh`, which also hands over this process's counts of
  guarded requests and finished bookings).
- Only a booking that committed uses an admission up: the booking writes the admission's
  ticket with itself (`booking`), so one admission books once, a refused or failed booking
  leaves it usable, and a retry with the same Idempotency-Key gets the first answer.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

import structlog

from kontingent.clock import Clock
from kontingent.config import Settings
from kontingent.db import OVERLOADS, Database
from kontingent.errors import KontingentError, NotFound
from kontingent.waiting_room import tokens
from kontingent.waiting_room.model import (
    Mode,
    RoomConfig,
    admits,
    effective_rate,
    far_ahead,
    guards,
    observed_rate,
    rank_in,
    score_for,
    steady_rate,
)
from kontingent.waiting_room.recovery import Recovery
from kontingent.waiting_room.redis_store import RedisWaitingRoom
from kontingent.waiting_room.store import (
    Handover,
    MemoryWaitingRoom,
    Shared,
    Step,
    StoreEmpty,
    StoreUnavailable,
    TicketState,
    WaitingRoomStore,
)
from kontingent.waiting_room.views import (
    JOIN_HINT,
    AdmissionRefused,
    QueueView,
    TicketExpired,
    WaitingRoomPaused,
    open_door,
    paused,
    queue_view,
)

T = TypeVar("T")
log = structlog.get_logger(__name__)
SYNC_EVERY_S = 1.0
STORE_PAUSE_S = 1.0  # after a failure the store is left alone this long
SPENT_MARGIN_S = 60.0


@dataclass(frozen=True, slots=True)
class RoomStats:
    waiting: int
    serving: int
    admitted_per_s: float
    paused: bool
    mode: str
    guarding: bool
    expired: int
    recycled: int
    rate: float
    effective_rate: float


def config_from(settings: Settings) -> RoomConfig:
    """The room as the settings describe it, until an operator stores another."""
    mode = settings.waiting_room_mode or ("scheduled" if settings.waiting_room else "off")
    opens = settings.waiting_room_opens_at
    return RoomConfig(
        mode=Mode(mode),
        opens_at=datetime.fromisoformat(opens).timestamp() if opens else None,
        rate=settings.waiting_room_admission_rate,
        ttl_s=settings.waiting_room_admission_ttl_s,
        threshold=settings.waiting_room_auto_threshold,
    )


class WaitingRoom:
    def __init__(
        self,
        store: WaitingRoomStore,
        clock: Clock,
        secret_key: str,
        default: RoomConfig,
        rng: random.Random | None = None,
        overloads: Callable[[], int] | None = None,
        db: Database | None = None,
        settings_in_db: bool = True,
    ) -> None:
        """`db`: where admissions are recorded and, with `settings_in_db`, the operator's
        settings live (with Redis); in embedded mode (the queue in this process) `default`
        is the room until an operator changes it."""
        self.store = store
        self.clock = clock
        self.default = default
        self._secret = secret_key
        self._recovery = Recovery(db, secret_key, settings_in_db)
        # The settings read from the database while the store could not be asked and this
        # process had no snapshot yet (None: not read).
        self._settled: RoomConfig | None = None
        self._rng = rng or random.SystemRandom()  # the draws: unpredictable
        self._jitter = random.Random(self._rng.random())  # spreading polls needs no more
        self._shared: Shared | None = None
        self._steady: float | None = None  # steady_rate of the snapshot's admission counts
        self._next_sync = 0.0
        self._paused_until = 0.0
        self._attempts = 0
        self._bookings = 0
        # How many requests this process has refused as overloaded so far (db.OVERLOADS).
        self._overloads = overloads or (lambda: 0)
        self._overloads_told = self._overloads()
        self._started = clock.now().timestamp()

    # --- the snapshot ---------------------------------------------------------------

    @property
    def config(self) -> RoomConfig:
        shared = self._shared
        if shared is not None:
            return shared.config or self.default
        if self._known():
            return self._settled or self.default
        return self.default.with_changes(mode=Mode.SCHEDULED, opens_at=None)  # closed

    def _known(self) -> bool:
        """Whether this process knows the room's settings (else it guards, admits nobody)."""
        kept = self._recovery.keeps_settings
        return self._shared is not None or self._settled is not None or not kept

    @property
    def paused(self) -> bool:
        return self.clock.now().timestamp() < self._paused_until

    def _auto_on(self) -> bool:
        if self._shared is None:  # not known yet: on where settings are stored, the closed side
            return self._recovery.keeps_settings
        return self._shared.auto_on

    def guarding(self) -> bool:
        return guards(self.config, self._auto_on())

    def drawing(self) -> bool:
        """Whether a join now draws a random place (before the opening minute): each extra
        join is one more draw, so the HTTP layer limits them per address."""
        opens = self.config.opens_at
        return self.guarding() and opens is not None and self.clock.now().timestamp() < opens

    def _step(self, now: float) -> Step:
        config, shared = self.config, self._shared
        since = config.opens_at
        if config.mode is Mode.AUTO:
            since = shared.auto_since if shared else None
        bookings = shared.bookings_in_window if shared else 0
        quiet = shared.overload_quiet_s if shared else None
        rate = effective_rate(config.rate, bookings, now - (since or self._started), quiet)
        admitting = admits(config, self._auto_on(), now) and self._known()
        return Step(now, admitting, rate, config.ttl_s, config.opens_at)

    def _failed(self, now: float, exc: StoreUnavailable) -> WaitingRoomPaused:
        self._paused_until = now + STORE_PAUSE_S
        log.warning("waiting_room_store_unavailable", error=str(exc))
        return paused()

    async def _refresh(self, force: bool = False) -> float:
        """Bring the snapshot up to date once a second; hand over the local counts. Returns
        the time now: read once when no sync is due, read again after one (it waits on the
        store)."""
        now = self.clock.now().timestamp()
        if (now < self._next_sync and not force) or now < self._paused_until:
            return now
        self._next_sync = now + SYNC_EVERY_S
        refused = self._overloads()
        counts = Handover(self._attempts, self._bookings, refused - self._overloads_told)
        self._attempts = self._bookings = 0
        self._overloads_told = refused
        config, step = self.config, self._step(now)
        auto = config.mode is Mode.AUTO
        try:
            shared = await self._asked(
                now, lambda: self.store.sync(step, counts, config.threshold, auto)
            )
        except StoreUnavailable as exc:
            self._failed(now, exc)
            if not self._known():  # the database may say how the room is set meanwhile
                self._settled = await self._recovery.settled(self.default)
            return self.clock.now().timestamp()
        self._shared, self._steady = shared, steady_rate(shared.admit_counts)
        self._recovery.saw(shared, now)
        return self.clock.now().timestamp()

    async def _asked(self, now: float, call: Callable[[], Awaitable[T]]) -> T:
        """`call` on the store; when the store holds no room (new, or back empty after a
        restart), it is set up again from what is known (recovery.py) and `call` made again."""
        try:
            return await call()
        except StoreEmpty:
            await self._recovery.restore_into(self.store, self._shared, self.default, now)
        return await call()

    # --- the queue ------------------------------------------------------------------

    async def join(self) -> QueueView:
        now = await self._refresh()
        if not self.guarding():  # nothing to wait for: admitted at once, nothing stored
            return self._open_door(tokens.new_ticket())
        self._check_paused(now)
        score = tokens.quantize(score_for(now, self.config.opens_at, self._rng.random()))
        ticket = tokens.scored_ticket(self._secret, score)
        step = self._step(now)
        try:
            state = await self._asked(now, lambda: self.store.join(ticket, score, step))
        except StoreUnavailable as exc:
            raise self._failed(now, exc) from exc
        return self._view(ticket, state)

    async def status(self, ticket: str) -> QueueView:
        now = await self._refresh()
        if not 10 <= len(ticket) <= 64:
            raise NotFound(
                f"there is no ticket {ticket[:64]!r}: {JOIN_HINT}", code="unknown_ticket"
            )
        if not self.guarding():  # as in `join`: nothing to wait for, nothing to ask
            return self._open_door(ticket)
        self._check_paused(now)
        score = tokens.ticket_score(self._secret, ticket)
        if score is None:  # not one the queue handed out: it cannot be in the store
            raise NotFound(f"this ticket is not in the queue: {JOIN_HINT}", code="unknown_ticket")
        step = self._step(now)
        far = self._far_back(ticket, score, step)
        if far is not None:
            return far
        try:
            state = await self._asked(now, lambda: self.store.poll(ticket, score, step))
        except StoreUnavailable as exc:
            raise self._failed(now, exc) from exc
        if state.status == "unknown":
            raise NotFound(f"this ticket is not in the queue: {JOIN_HINT}", code="unknown_ticket")
        if state.status == "expired":
            raise TicketExpired(f"your admission was not used in time and has expired: {JOIN_HINT}")
        return self._view(ticket, state)

    async def far_status(self, ticket: str) -> QueueView | None:
        """`status` when the snapshot alone can answer it (the room guards, its store is
        reachable, and the ticket is genuine and far back in line); None otherwise, and then
        `status` must be asked. For the HTTP layer's shortcut (routes.py)."""
        now = await self._refresh()
        if now < self._paused_until or not self.guarding():
            return None
        score = tokens.ticket_score(self._secret, ticket)
        return None if score is None else self._far_back(ticket, score, self._step(now))

    def _far_back(self, ticket: str, score: float, step: Step) -> QueueView | None:
        """The view of a ticket far back in line, from the snapshot alone; None when the
        store must be asked. Far back means at least `far_ahead` people were certainly ahead
        at the last refresh (at most about a second ago): nobody that far back can have been
        admitted since, so the answer is "waiting", with the place estimated from the
        snapshot's samples (exact while fewer than FRONT_SAMPLES wait)."""
        shared = self._shared
        if shared is None or not shared.front:
            return None
        fewest, likely = rank_in(shared.front, shared.front_every, shared.waiting, score)
        if fewest < far_ahead(step.rate):
            return None
        return self._view(
            ticket, TicketState("waiting", likely, None, shared.served, shared.waiting), step
        )

    def _check_paused(self, now: float) -> None:
        if now < self._paused_until or not self._known():
            raise paused()

    def _open_door(self, ticket: str) -> QueueView:
        return open_door(ticket, self.config.opens_at)

    def _view(self, ticket: str, state: TicketState, step: Step | None = None) -> QueueView:
        step = step or self._step(self.clock.now().timestamp())
        return queue_view(
            ticket, state, step, self.config, self._steady, self._secret, self._jitter
        )

    # --- the door -------------------------------------------------------------------

    async def require(
        self, token: str | None, ticket: str | None = None
    ) -> tokens.Admission | None:
        """The admission of a guarded call, or None when the room does not guard now."""
        await self._refresh()
        if self.config.mode is Mode.AUTO:
            self._attempts += 1  # the load auto mode watches, counted in every process
        if not self.guarding():
            return None
        try:
            return tokens.verify(self._secret, token, self.clock.now().timestamp(), ticket)
        except tokens.AdmissionError as exc:
            raise AdmissionRefused(
                f"the waiting room is on and {exc.reason}: {JOIN_HINT} "
                "(poll GET /api/v1/queue/{ticket}), then send its admission_token in the "
                "X-Admission header",
                code=exc.code,
            ) from None

    @contextlib.asynccontextmanager
    async def booking(
        self, token: str | None, ticket: str | None = None
    ) -> AsyncIterator[str | None]:
        """Run a booking under the room: the admission checked, and its ticket handed to the
        booking (None while the room does not guard), which writes it with itself: one
        admission books once, and only a booking that committed uses it up. The finished
        booking is counted for the rate cap."""
        admission = await self.require(token, ticket)
        try:
            yield None if admission is None else admission.ticket
        except KontingentError:
            self._bookings += 1
            raise
        self._bookings += 1
        if admission is not None:
            await self._mark_spent(admission.ticket)

    async def _mark_spent(self, ticket: str) -> None:
        """Tell the store the admission was used, so its expiry gives no credit back. Best
        effort: the booking stands either way, and a missed mark costs one extra admission."""
        now = self.clock.now().timestamp()
        try:
            await self.store.mark_spent(ticket, now, self.config.ttl_s + SPENT_MARGIN_S)
        except StoreUnavailable as exc:
            log.warning("waiting_room_mark_spent_failed", error=str(exc))

    # --- operators and metrics ------------------------------------------------------

    async def configure(self, **changes: object) -> RoomConfig:
        """Store a changed room for every process: in the database first (what a store that
        comes back empty gets back), then in the store (every process sees it within a
        second)."""
        await self._refresh(force=True)
        if self.paused:
            raise paused()
        config = self.config.with_changes(**changes)
        await self._recovery.keep(config, self.clock.now())
        try:
            await self.store.save_config(config)
        except StoreUnavailable as exc:
            raise self._failed(self.clock.now().timestamp(), exc) from exc
        await self._refresh(force=True)
        return config

    async def stats(self) -> RoomStats:
        await self._refresh()
        shared, now = self._shared, self.clock.now().timestamp()
        counts = shared.admit_counts if shared else []
        return RoomStats(
            waiting=shared.waiting if shared else 0,
            serving=shared.served if shared else 0,
            admitted_per_s=observed_rate(counts),
            paused=self.paused,
            mode=self.config.mode.value,
            guarding=self.guarding(),
            expired=shared.expired if shared else 0,
            recycled=shared.recycled if shared else 0,
            rate=self.config.rate,
            effective_rate=self._step(now).rate,
        )

    async def aclose(self) -> None:
        await self.store.aclose()


def waiting_room_for(settings: Settings, clock: Clock, db: Database | None = None) -> WaitingRoom:
    """Redis when `redis_url` is set (one queue for all processes), else in this process.
    With Redis the settings live in `db` (recovery.py); in embedded mode in the environment.
    Either way `db` records the admissions used and gives the bar for rejoining.
    The room slows admission while any process refuses requests as overloaded
    (db.OVERLOADS)."""
    store: WaitingRoomStore = (
        RedisWaitingRoom.from_url(settings.redis_url, settings.redis_prefix + "wr:")
        if settings.redis_url
        else MemoryWaitingRoom()
    )
    return WaitingRoom(
        store,
        clock,
        settings.secret_key,
        config_from(settings),
        overloads=lambda: OVERLOADS.total,
        db=db,
        settings_in_db=bool(settings.redis_url),
    )
