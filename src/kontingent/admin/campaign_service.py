"""Use cases of the campaign settings: the booking window, the waiting room, the phone share;
and what every admin use case shares (who acts, how a refusal reads).

Invariants kept here:
- Every part of a change is checked before any is written: a refusal (422, each field named)
  leaves everything as it was. The room is written first, since its store (Redis) is what
  may be unreachable then (503, nothing else written).
- The room is switched on only where every process reads it (Redis, or one worker, as the
  settings check at start demands); else 409 `waiting_room_needs_redis`.
- The window and the phone share change in one transaction each, with their audit row in
  it; the waiting room is changed through its own service (`WaitingRoom.configure`, what
  `kontingent waiting-room set` does: the database, then the store every process reads
  within a second), then audited in a transaction of its own.
- A window change reaches every process's catalogue at once (`Inventory.catalogue_changed`)
  and within a second without Redis (the catalogue's version, raised in its transaction).
- A phone share change re-spreads every contingent's share over its slots that start more
  than the release lead ahead, as `kontingent phone-share` does for one contingent
  (inventory/phone_share.py); slots within the lead and seats already booked keep theirs.
  Contingents recorded later get KONTINGENT_PHONE_SHARE_PERCENT, which this does not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import campaign_repository as repo
from kontingent.admin.campaign_model import (
    Room,
    Window,
    changes_of,
    room_problems,
    share_problems,
    window_problems,
)
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import Conflict, InvalidInput, NotFound
from kontingent.inventory import catalogue_version
from kontingent.inventory.phone_share import set_share
from kontingent.inventory.service import Inventory
from kontingent.staff import audit
from kontingent.waiting_room.model import Mode
from kontingent.waiting_room.service import WaitingRoom


@dataclass(frozen=True, slots=True)
class Who:
    """Who acts, through which channel, from where: what each audit row records."""

    actor: audit.Actor
    channel: str
    ip: str | None

    def entry(self, action: str, target: str, details: Mapping[str, Any]) -> audit.Entry:
        return audit.Entry(self.actor, action, self.channel, target, self.ip, details)


def refuse(problems: Mapping[str, str]) -> None:
    """Raise the 422 that names every wrong field, when there is any."""
    if problems:
        summary = "; ".join(f"{k}: {v}" for k, v in problems.items())
        raise InvalidInput(f"fix these fields: {summary}", fields=dict(problems))


@dataclass(frozen=True, slots=True)
class CampaignView:
    id: int
    name: str
    window: Window
    room: Room
    guarding: bool
    waiting: int
    paused: bool
    share_percents: list[int]  # what the contingents have now
    new_share_percent: int  # what contingents recorded later get
    release_hours: float


@dataclass(frozen=True, slots=True)
class CampaignChange:
    """What to change; None: leave as it is (the room's opening: `clear_opening`)."""

    booking_from: datetime | None = None
    booking_until: datetime | None = None
    mode: str | None = None
    opens_at: datetime | None = None
    clear_opening: bool = False
    rate: float | None = None
    phone_share_percent: int | None = None

    @property
    def touches_room(self) -> bool:
        return (
            self.mode is not None
            or self.opens_at is not None
            or self.clear_opening
            or (self.rate is not None)
        )


def room_of(room: WaitingRoom) -> Room:
    config = room.config
    opens = None if config.opens_at is None else datetime.fromtimestamp(config.opens_at, UTC)
    return Room(config.mode.value, opens, config.rate)


class CampaignRules:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        inventory: Inventory,
        room: WaitingRoom,
        *,
        release_lead: timedelta,
        new_share_percent: int,
        room_shared: bool = True,
    ) -> None:
        """`room_shared`: whether every process reads the room this one sets (Redis, or a
        single worker); else switching it on would guard one worker of several."""
        self.db = db
        self.clock = clock
        self.inventory = inventory
        self.room = room
        self.release_lead = release_lead
        self.new_share_percent = new_share_percent
        self.room_shared = room_shared

    async def view(self) -> CampaignView:
        async with self.db.read() as conn:
            found = await repo.window(conn)
            percents = await repo.share_percents(conn)
        if found is None:
            raise NotFound("no campaign is set up: run `kontingent seed --demo` or set one up")
        stats = await self.room.stats()
        return CampaignView(
            found[0], found[1], found[2], room_of(self.room), stats.guarding, stats.waiting,
            stats.paused, percents, self.new_share_percent,
            self.release_lead.total_seconds() / 3600,
        )  # fmt: skip

    async def change(self, change: CampaignChange, who: Who) -> CampaignView:
        """Check every part, then apply each: window, waiting room, phone share."""
        current = await self.view()
        window = replace(
            current.window,
            **{k: v for k in ("booking_from", "booking_until") if (v := getattr(change, k))},
        )
        room = self._room_after(current.room, change)
        problems = {**window_problems(window), **room_problems(room)}
        if change.phone_share_percent is not None:
            problems.update(share_problems(change.phone_share_percent))
        refuse(problems)
        if change.touches_room and room.mode != "off" and not self.room_shared:
            raise Conflict(
                "the waiting room with more than one worker needs KONTINGENT_REDIS_URL (one "
                "queue for all processes); nothing was changed",
                code="waiting_room_needs_redis",
            )
        if change.touches_room:  # first: its store is what may be unreachable
            await self._save_room(current.room, room, who)
        if window != current.window:
            await self._save_window(current.id, current.window, window, who)
        if change.phone_share_percent is not None:
            await self._save_share(change.phone_share_percent, who)
        return await self.view()

    @staticmethod
    def _room_after(room: Room, change: CampaignChange) -> Room:
        opens = None if change.clear_opening else (change.opens_at or room.opens_at)
        return Room(
            change.mode or room.mode, opens, room.rate if change.rate is None else change.rate
        )

    async def _save_window(self, campaign_id: int, old: Window, new: Window, who: Who) -> None:
        async def work(conn: AsyncConnection) -> int:
            await repo.save_window(conn, campaign_id, new)
            details = {"changes": changes_of(old, new, ("booking_from", "booking_until"))}
            entry = who.entry("booking_window_changed", f"campaign:{campaign_id}", details)
            await audit.record(conn, entry, self.clock.now())
            return await catalogue_version.bump(conn)

        version = await self.db.run_write(work)
        self.inventory.catalogue_changed(version=version)

    async def _save_room(self, old: Room, new: Room, who: Who) -> None:
        opens = None if new.opens_at is None else new.opens_at.timestamp()
        await self.room.configure(mode=Mode(new.mode), opens_at=opens, rate=new.rate)
        details = {"changes": changes_of(old, new, ("mode", "opens_at", "rate"))}
        async with self.db.write() as conn:
            entry = who.entry("waiting_room_changed", "waiting_room", details)
            await audit.record(conn, entry, self.clock.now())

    async def _save_share(self, percent: int, who: Who) -> None:
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> list[tuple[int, str]]:
            changed = [await set_share(conn, i, percent, now + self.release_lead)
                       for i in await repo.contingent_ids(conn)]  # fmt: skip
            found = [c for c in changed if c is not None]
            details = {"percent": percent, "contingents": len(found),
                       "slots": sum(c[2] for c in found)}  # fmt: skip
            await audit.record(conn, who.entry("phone_share_changed", "contingents", details), now)
            return sorted({(c[0], c[1]) for c in found})

        for centre_id, vaccine_code in await self.db.run_write(work):
            self.inventory.slots_changed(centre_id, vaccine_code)
