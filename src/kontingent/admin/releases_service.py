"""Contingent releases: schedule one, execute it at its minute, cancel it before.

Invariants kept here:
- Scheduling is one transaction: the centres locked, the checks (releases_model.py, then no
  contingent of the vaccine at those centres on any of those days, naming each one met), the
  release, per centre its contingent and its slots with `bookable_from` = the release minute
  and the phone share spread, `slot_days` (triggers) and the audit row (`release.schedule`)
  commit together or not at all.
- The slots exist from scheduling on, so at the release minute every process sees them with
  nobody acting: bookings check `bookable_from` against their own clock, and cached readings
  whose next release minute has passed are read again (inventory/service.py). No job has to
  run on time for seats to become bookable at their minute.
- Executing marks the release `done` (a conditional UPDATE, `claim_due`: exactly once however
  many schedulers run, and the request of a release "now" goes the same way) with its audit
  row (`release.execute`) in the same transaction; then, committed, it drops the cached
  readings of its centres here and in every other process (over Redis when configured) and
  queues the waitlist SMS of its centres once. Should that follow-up fail, the waitlist job
  (jobs/service.py, every 30 s) still finds the free offers: the SMS come late, never twice.
- Cancelling is only for a scheduled release before its minute: marked `cancelled`, its
  unbooked slots and the contingents left empty removed, audited (`release.cancel`), in one
  transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import releases_repository as repo
from kontingent.admin.releases_model import (
    CentreHours,
    CentrePlan,
    ReleaseWish,
    Window,
    check_size,
    check_wish,
    plan_centre,
)
from kontingent.admin.releases_repository import Release
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import Conflict, InvalidInput, NotFound
from kontingent.inventory.service import Inventory
from kontingent.staff import audit
from kontingent.staff.audit import Actor, Channel, Entry
from kontingent.waitlist.service import Waitlist

log = structlog.get_logger(__name__)
SCHEDULER = Actor("scheduler")
MAX_OVERLAPS_NAMED = 5


@dataclass(frozen=True, slots=True)
class Planned:
    """What a release would make: its minute, phone share and slots per centre."""

    at: datetime
    percent: int
    plans: tuple[CentrePlan, ...]

    @property
    def slots(self) -> int:
        return sum(p.slots for p in self.plans)

    @property
    def seats(self) -> int:
        return sum(p.seats for p in self.plans)


class Releases:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        inventory: Inventory,
        waitlist: Waitlist,
        phone_share_percent: int,
    ) -> None:
        self.db = db
        self.clock = clock
        self.inventory = inventory
        self.waitlist = waitlist
        self.phone_share_percent = phone_share_percent  # the default of a new contingent

    async def plan(self, wish: ReleaseWish) -> Planned:
        """What scheduling `wish` now would make, with every check it would pass; no writes."""
        async with self.db.read() as conn:
            return await self._prepare(conn, wish, self.clock.now())

    async def schedule(
        self, actor: Actor, wish: ReleaseWish, channel: str, ip: str | None
    ) -> Release:
        """Schedule a release (executed at once when its minute has come)."""
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> tuple[int, datetime]:
            await repo.lock_centres(conn, wish.centre_ids)
            planned = await self._prepare(conn, wish, now)
            by = (actor.username, actor.user_id)
            release_id = await repo.add_release(
                conn, wish, planned.at, planned.percent, planned.plans, by, now
            )
            entry = Entry(actor, "release.schedule", channel, f"release:{release_id}", ip,
                          _details(wish, planned))  # fmt: skip
            await audit.record(conn, entry, now)
            return release_id, planned.at

        try:
            release_id, at = await self.db.run_write(work)
        except IntegrityError:  # slots of no contingent on those days (made by hand)
            raise Conflict(
                "some of those slots exist already: choose other days",
                code="slots_exist",
                field="first_day",
            ) from None
        if at <= now:
            await self.execute([release_id], now, actor, channel, ip)
        return await self.get(release_id)

    async def _prepare(self, conn: AsyncConnection, wish: ReleaseWish, now: datetime) -> Planned:
        found = await repo.campaign_window(conn)
        if found is None:
            raise Conflict("no campaign is set up yet", code="no_campaign")
        at = check_wish(wish, Window(found[0], found[1], now))
        if not await repo.vaccine_exists(conn, wish.vaccine):
            raise InvalidInput(
                f"unknown vaccine {wish.vaccine!r}: see /api/v1/vaccines",
                code="unknown_vaccine",
                field="vaccine",
            )
        centres = await repo.centre_hours(conn, wish.centre_ids)
        _check_centres(wish, centres)
        await self._check_overlaps(conn, wish, [c.id for c in centres])
        percent = self._share(wish)
        closures = await repo.closures(conn)
        plans = tuple(
            plan_centre(c, wish, partial(closures.closed, c.id), percent) for c in centres
        )
        check_size(plans)
        return Planned(at, percent, plans)

    def _share(self, wish: ReleaseWish) -> int:
        percent = wish.phone_share_percent
        if percent is None:
            return self.phone_share_percent
        if not 0 <= percent <= 100:
            raise InvalidInput(
                "the phone share is a percentage from 0 to 100",
                code="invalid_release",
                field="phone_share_percent",
                reason="share",
            )
        return percent

    async def _check_overlaps(
        self, conn: AsyncConnection, wish: ReleaseWish, centre_ids: Sequence[int]
    ) -> None:
        met = await repo.overlaps(conn, wish.vaccine, centre_ids, wish.first_day, wish.last_day)
        if not met:
            return
        named = "; ".join(
            f"centre {o.centre_id}: contingent {o.contingent_id} ({o.first_day} to {o.last_day})"
            for o in met[:MAX_OVERLAPS_NAMED]
        )
        more = f" and {len(met) - MAX_OVERLAPS_NAMED} more" if len(met) > MAX_OVERLAPS_NAMED else ""
        raise Conflict(
            f"{wish.vaccine} is released already on some of those days at {named}{more}: "
            "choose days after them, or other centres",
            code="contingent_overlap",
            field="first_day",
            overlaps=[
                {"centre_id": o.centre_id, "contingent_id": o.contingent_id,
                 "first_day": o.first_day.isoformat(), "last_day": o.last_day.isoformat()}
                for o in met
            ],
        )  # fmt: skip

    async def execute_due(self, now: datetime | None = None) -> int:
        """Execute every release whose minute has come; how many this call executed. The
        scheduler's job: a read first, so a pass with nothing due writes nothing."""
        now = now or self.clock.now()
        return await self.execute(await self.due(now), now)

    async def due(self, now: datetime) -> list[int]:
        """The scheduled releases whose minute has come by `now`."""
        async with self.db.read() as conn:
            return await repo.due(conn, now)

    async def execute(
        self,
        ids: Sequence[int],
        now: datetime,
        actor: Actor = SCHEDULER,
        channel: str = Channel.scheduler,
        ip: str | None = None,
    ) -> int:
        """Execute those of `ids` still scheduled and due (claimed here, so each release is
        executed once whoever else tries); how many this call executed."""
        if not ids:
            return 0

        async def work(conn: AsyncConnection) -> tuple[list[int], list[tuple[int, str]]]:
            claimed = await repo.claim_due(conn, ids, now)
            for release_id in claimed:
                entry = Entry(actor, "release.execute", channel, f"release:{release_id}", ip)
                await audit.record(conn, entry, now)
            return claimed, await repo.pairs_of(conn, claimed)

        claimed, pairs = await self.db.run_write(work)
        for centre_id, vaccine_code in pairs:
            self.inventory.slots_changed(centre_id, vaccine_code)
        if pairs:
            await self._tell_waiting(now, pairs)
        return len(claimed)

    async def _tell_waiting(self, now: datetime, pairs: Sequence[tuple[int, str]]) -> None:
        try:
            await self.waitlist.notify_released(now, only=set(pairs))
        except Exception:  # the waitlist job finds the same offers within 30 s
            log.exception("release_waitlist_failed", pairs=len(pairs))

    async def cancel(self, actor: Actor, release_id: int, channel: str, ip: str | None) -> Release:
        """Withdraw a scheduled release before its minute, with the slots it made."""
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> list[tuple[int, str]] | None:
            if not await repo.mark_cancelled(conn, release_id, now, actor.username):
                return None
            await repo.remove_unbooked(conn, release_id)
            entry = Entry(actor, "release.cancel", channel, f"release:{release_id}", ip)
            await audit.record(conn, entry, now)
            return await repo.pairs_of(conn, [release_id])

        pairs = await self.db.run_write(work)
        if pairs is None:
            raise await self._not_cancelled(release_id)
        for centre_id, vaccine_code in pairs:
            self.inventory.slots_changed(centre_id, vaccine_code)
        return await self.get(release_id)

    async def _not_cancelled(self, release_id: int) -> Exception:
        found = await self.get(release_id)  # NotFound when there is none
        if found.status == "done":
            return Conflict(
                "this release was executed already: its slots are bookable",
                code="release_done",
            )
        if found.status == "cancelled":
            return Conflict("this release was cancelled already", code="release_cancelled")
        return Conflict(
            "the release minute has come: its slots are bookable and it cannot be cancelled",
            code="release_started",
        )

    async def get(self, release_id: int) -> Release:
        async with self.db.read() as conn:
            found = await repo.release(conn, release_id) if 0 < release_id < 2**31 else None
        if found is None:
            raise NotFound(f"there is no release {release_id}", code="release_not_found")
        return found

    async def history(
        self, before: int | None = None, limit: int = 50
    ) -> tuple[list[Release], int | None]:
        async with self.db.read() as conn:
            return await repo.history(conn, before, limit)


def _check_centres(wish: ReleaseWish, centres: Sequence[CentreHours]) -> None:
    if wish.centre_ids is None:
        return
    if not wish.centre_ids:
        raise InvalidInput(
            "choose at least one centre, or null for every centre",
            code="invalid_release",
            field="centre_ids",
            reason="no_centre",
        )
    unknown = sorted(set(wish.centre_ids) - {c.id for c in centres})
    if unknown:
        raise InvalidInput(
            f"there is no centre {', '.join(map(str, unknown))}: see /api/v1/centres",
            code="unknown_centre",
            field="centre_ids",
            unknown=unknown,
        )


def _details(wish: ReleaseWish, planned: Planned) -> dict[str, Any]:
    """The audit row's details: what was asked for and what it made."""
    return {
        "vaccine": wish.vaccine,
        "centre_ids": None if wish.centre_ids is None else list(wish.centre_ids),
        "first_day": wish.first_day.isoformat(),
        "last_day": wish.last_day.isoformat(),
        "at": planned.at.isoformat(),
        "slots": planned.slots,
        "seats": planned.seats,
    }
