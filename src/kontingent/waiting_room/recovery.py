"""What survives a Redis restart: the room's settings in the database, and what each process
knows of the queue, put back into a store that came back empty.

Invariants kept here:
- The database is where the operator's settings live (`kontingent waiting-room set` writes
  them there before it tells Redis). A store found empty gets them back from it; when the
  database cannot be read, from the snapshot this process last read from the store; with
  neither, nothing is restored, the store stays empty and the room stays closed (service.py).
- The bar a store gets back is never above the true one, so a person who was waiting always
  gets their place back: this process's bar of REJOIN_LAG_S ago (bars only grow), else the
  highest score among the admissions bookings used (`rejoin_floor`), which lags the truth.
  A bar too low only lets people admitted shortly before in again; a booking still needs an
  admission not used before (`bookings.admission` is unique).
- In embedded mode (one process, the queue in its memory, `keeps_settings` false) the
  environment's settings are the only ones; the database still gives the bar when the
  process starts again. Without a database the bar is the opening's, or the time now.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import structlog

from kontingent.db import Database
from kontingent.waiting_room import repository, tokens
from kontingent.waiting_room.model import (
    REJOIN_HOLD_S,
    REJOIN_LAG_S,
    RoomConfig,
    rejoin_floor,
)
from kontingent.waiting_room.store import Restore, Shared, StoreUnavailable, WaitingRoomStore
from kontingent.waiting_room.views import SettingsNotStored

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Settled:
    """The settings as read from the database (`config` None: none stored)."""

    config: RoomConfig | None


class Recovery:
    """One process's memory of the store, and the database's copy of what must outlive it."""

    def __init__(self, db: Database | None, secret: str, keeps_settings: bool = True) -> None:
        self.db = db
        # Whether the settings live in `db` (with Redis), or in the environment only.
        self.keeps_settings = keeps_settings and db is not None
        self._secret = secret
        self._bars: deque[tuple[float, float]] = deque()  # (when read, bar), oldest first

    def saw(self, shared: Shared, now: float) -> None:
        """Keep the bars of the last REJOIN_LAG_S seconds, and one from before them."""
        bars = self._bars
        bars.append((now, shared.bar))
        while len(bars) > 1 and bars[1][0] <= now - REJOIN_LAG_S:
            bars.popleft()

    async def settings(self) -> Settled | None:
        """The stored settings, or None where they are not kept in the database. Raises when
        it cannot be read."""
        if self.db is None or not self.keeps_settings:
            return None
        async with self.db.read() as conn:
            return Settled(await repository.stored_config(conn))

    async def settled(self, default: RoomConfig) -> RoomConfig | None:
        """The room as the database says it is set (`default` where nothing is stored), for
        a process that never read it from the store; None when it cannot say."""
        try:
            settled = await self.settings()
        except Exception as exc:  # unreadable too: the room stays closed
            log.warning("waiting_room_settings_unreadable", error=type(exc).__name__)
            return None
        return None if settled is None else settled.config or default

    async def keep(self, config: RoomConfig, now: datetime) -> None:
        """Store the operator's settings in the database (where they are kept there)."""
        if self.db is None or not self.keeps_settings:
            return
        try:
            await self.db.run_write(partial(repository.store_config, config=config, now=now))
        except Exception as exc:  # nothing changed: say so, with what went wrong
            raise SettingsNotStored(
                "the waiting room's settings could not be stored in the database "
                f"({type(exc).__name__}): nothing was changed; try again once it is reachable"
            ) from exc

    async def restore_into(
        self, store: WaitingRoomStore, seen: Shared | None, default: RoomConfig, now: float
    ) -> None:
        """Set up `store`, found holding no room, from what is known (`restore`)."""
        restore = await self.restore(seen, default, now)
        if not await store.restore(restore):
            return  # another process was first
        lost = seen is not None  # this process saw a room there before: Redis lost it
        (log.warning if lost else log.info)(
            "waiting_room_store_restored" if lost else "waiting_room_store_set_up",
            floor=restore.floor,
            served=restore.served,
            mode=(restore.config or default).mode.value,
        )

    async def restore(self, seen: Shared | None, default: RoomConfig, now: float) -> Restore:
        """What to put back into a store that holds no room; `seen`: this process's last
        snapshot of it, if any. Raises StoreUnavailable when the settings cannot be known."""
        config = await self._config(seen)
        floor = self._bars[0][1] if self._bars else None
        if floor is None:
            hint = await self._admitted_score()
            floor = rejoin_floor(hint, (config or default).opens_at, now)
        # Not known: off, as auto mode starts; its own rule turns it on under load.
        auto_on = seen is not None and seen.auto_on
        return Restore(
            floor=floor,
            served=seen.served if seen else 0,
            auto_on=auto_on,
            auto_since=(seen.auto_since if seen else None) or now,
            hold_until=now + REJOIN_HOLD_S if auto_on else 0.0,
            config=config,
            rejoin_until=now + REJOIN_HOLD_S,
        )

    async def _config(self, seen: Shared | None) -> RoomConfig | None:
        try:
            settled = await self.settings()
        except Exception as exc:  # any failure to read: fall back, or stay closed
            if seen is None:
                raise StoreUnavailable("the waiting room's settings cannot be read") from exc
            log.warning("waiting_room_settings_unreadable", error=type(exc).__name__)
            return seen.config
        if settled is None or settled.config is None:  # none stored (or no database): what
            return seen.config if seen else None  # this process saw, else the environment's
        return settled.config

    async def _admitted_score(self) -> float | None:
        """The highest score among the tickets of the newest bookings under the room."""
        if self.db is None:
            return None
        try:
            async with self.db.read() as conn:
                tickets = await repository.admitted_tickets(conn)
        except Exception as exc:  # a hint only: without it the floor is the opening or now
            log.warning("waiting_room_admissions_unreadable", error=type(exc).__name__)
            return None
        scores = [tokens.ticket_score(self._secret, t) for t in tickets]
        return max((s for s in scores if s is not None), default=None)
