"""The waiting room's use cases: join, ask where one stands, pass the door with an admission,
spend it on a booking, and let operators change the room at run time.

Invariants kept here:
- Fails closed: while the store cannot be reached nobody is admitted and joins and polls
  answer 503 with Retry-After (`WaitingRoomPaused`). Admissions already granted stay valid
  until their expiry (they are checked with the key alone), but a booking under the room
  must spend its ticket in the store first, so while the store is down no booking passes
  the room either.
- Only the front of the line is asked about in the store. A poll from far back (`_far_back`)
  is answered from the snapshot: its ticket carries its score, signed (tokens.py), and the
  snapshot holds the scores of every k-th waiting ticket. A ticket the queue did not hand
  out is refused without asking the store. Admission tokens come only from the store.
- The door (`require`) never asks the store: it checks the token's signature and expiry,
  and reads whether the room guards from a snapshot that each process refreshes from the
  store at most once per second (`_refresh`, which also hands over this process's counts of
  guarded requests and finished bookings).
- A booking spends its ticket before it runs and gives it back when it is refused, so one
  admission books at most once, a refused person can try again with fresh offers, and a
  retry with the same Idempotency-Key gets the first booking's answer.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

from kontingent import db
from kontingent.clock import Clock
from kontingent.config import Settings
from kontingent.errors import Forbidden, KontingentError, NotFound, RateLimited
from kontingent.waiting_room import tokens
from kontingent.waiting_room.model import (
    Mode,
    RoomConfig,
    admits,
    effective_rate,
    far_ahead,
    guards,
    observed_rate,
    poll_after,
    position_of,
    rank_in,
    score_for,
    steady_rate,
    wait_at,
)
from kontingent.waiting_room.redis_store import RedisWaitingRoom
from kontingent.waiting_room.store import (
    Handover,
    MemoryWaitingRoom,
    Shared,
    Step,
    StoreUnavailable,
    TicketState,
    WaitingRoomStore,
)

log = structlog.get_logger(__name__)
SYNC_EVERY_S = 1.0
STORE_PAUSE_S = 1.0  # after a failure the store is left alone this long
PAUSED_RETRY_AFTER_S = 10
SPENT_MARGIN_S = 60.0
JOIN_HINT = "join the queue at POST /api/v1/queue and wait until you are admitted"


class WaitingRoomPaused(RateLimited):
    """The store is unreachable: the room fails closed."""

    status = 503


class AdmissionRefused(Forbidden):
    """A guarded call came without a valid admission."""


class TicketExpired(KontingentError):
    """The ticket was admitted but its admission was not used in time."""

    status = 410
    code = "admission_expired"


def _paused() -> WaitingRoomPaused:
    return WaitingRoomPaused(
        "the waiting room is paused for a moment because its queue cannot be reached; "
        "nobody is being let in meanwhile and your place is kept: "
        f"try again in {PAUSED_RETRY_AFTER_S} seconds",
        retry_after_s=PAUSED_RETRY_AFTER_S,
        code="waiting_room_paused",
    )


@dataclass(frozen=True, slots=True)
class QueueView:
    ticket: str
    status: str  # "before_opening", "waiting", "admitted"
    position: int | None
    serving: int
    waiting: int
    poll_after_s: float
    estimated_wait_s: float | None
    admission_token: str | None = None
    admission_expires_at: float | None = None
    opens_at: float | None = None

    @property
    def admitted(self) -> bool:
        return self.status == "admitted"


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
    ) -> None:
        self.store = store
        self.clock = clock
        self.default = default
        self._secret = secret_key
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
        return shared.config if shared and shared.config else self.default

    @property
    def paused(self) -> bool:
        return self.clock.now().timestamp() < self._paused_until

    def _auto_on(self) -> bool:
        return bool(self._shared and self._shared.auto_on)

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
        return Step(now, admits(config, self._auto_on(), now), rate, config.ttl_s, config.opens_at)

    def _failed(self, now: float, exc: StoreUnavailable) -> WaitingRoomPaused:
        self._paused_until = now + STORE_PAUSE_S
        log.warning("waiting_room_store_unavailable", error=str(exc))
        return _paused()

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
        config = self.config
        try:
            self._shared = await self.store.sync(
                self._step(now), counts, config.threshold, config.mode is Mode.AUTO
            )
            self._steady = steady_rate(self._shared.admit_counts)
        except StoreUnavailable as exc:
            self._failed(now, exc)
        return self.clock.now().timestamp()

    # --- the queue ------------------------------------------------------------------

    async def join(self) -> QueueView:
        now = await self._refresh()
        if not self.guarding():  # nothing to wait for: admitted at once, nothing stored
            return self._open_door(tokens.new_ticket())
        self._check_paused(now)
        score = tokens.quantize(score_for(now, self.config.opens_at, self._rng.random()))
        ticket = tokens.scored_ticket(self._secret, score)
        try:
            state = await self.store.join(ticket, score, self._step(now))
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
            state = await self.store.poll(ticket, step)
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
        if now < self._paused_until:
            raise _paused()

    def _open_door(self, ticket: str) -> QueueView:
        """Admitted while the room does not guard: no admission token, because the door checks
        none now, and a token minted now must not pass the door once the room guards (an
        auto-mode room turning on under load would otherwise meet a stock of them)."""
        return QueueView(ticket, "admitted", None, 0, 0, 0.0, 0.0, opens_at=self.config.opens_at)

    def _view(self, ticket: str, state: TicketState, step: Step | None = None) -> QueueView:
        now = step.now if step else self.clock.now().timestamp()
        config = self.config
        if state.status == "admitted" and state.deadline is not None:
            return QueueView(
                ticket, "admitted", None, state.served, state.waiting, 0.0, 0.0,
                tokens.sign(self._secret, ticket, state.deadline), float(int(state.deadline)),
                config.opens_at,
            )  # fmt: skip
        step = step or self._step(now)
        if not step.admitting or state.rank is None:
            until = (config.opens_at or now) - now
            wait = poll_after(None, step.rate, until, self._jitter)
            return QueueView(
                ticket, "before_opening", None, state.served, state.waiting, wait, None,
                opens_at=config.opens_at,
            )  # fmt: skip
        estimate = wait_at(state.rank + 1, self._steady, step.rate)
        return QueueView(
            ticket,
            "waiting",
            position_of(state.served, state.rank),
            state.served,
            state.waiting,
            poll_after(state.rank, step.rate, 0.0, self._jitter),
            None if estimate is None else round(estimate),
            opens_at=config.opens_at,
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
        self, token: str | None, idempotency_key: str | None = None, ticket: str | None = None
    ) -> AsyncIterator[None]:
        """Run a booking under the room: admission checked, ticket spent (once), given back
        if the booking is refused; the finished booking counted for the rate cap."""
        admission = await self.require(token, ticket)
        spent = await self._spend(admission, idempotency_key or "")
        try:
            yield
        except KontingentError:
            self._bookings += 1
            if spent:
                await self._unspend(admission)
            raise
        self._bookings += 1

    async def _spend(self, admission: tokens.Admission | None, key: str) -> bool:
        if admission is None:
            return False
        now = self.clock.now().timestamp()
        keep = self.config.ttl_s + SPENT_MARGIN_S
        try:
            outcome = await self.store.spend(admission.ticket, key, now, keep)
        except StoreUnavailable as exc:
            raise self._failed(now, exc) from exc
        if outcome == "spent":
            raise AdmissionRefused(
                f"this admission was already used for a booking: {JOIN_HINT}",
                code="admission_used",
            )
        return outcome == "ok"

    async def _unspend(self, admission: tokens.Admission | None) -> None:
        if admission is None:
            return
        try:
            await self.store.unspend(admission.ticket)
        except StoreUnavailable as exc:  # the ticket stays spent: the person joins again
            log.warning("waiting_room_unspend_failed", error=str(exc))

    # --- operators and metrics ------------------------------------------------------

    async def configure(self, **changes: object) -> RoomConfig:
        """Store a changed room for every process (they see it within a second)."""
        await self._refresh(force=True)
        if self.paused:
            raise _paused()
        config = self.config.with_changes(**changes)
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


def waiting_room_for(settings: Settings, clock: Clock) -> WaitingRoom:
    """Redis when `redis_url` is set (one queue for all processes), else in this process.
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
        overloads=lambda: db.OVERLOADS.total,
    )
