"""Closing a centre on a day, and opening it again.

Invariants kept here:
- A day with bookings is closed only when the caller confirms (`cancel_bookings`); until
  then the answer is 409 `closure_has_bookings` listing them, and nothing is written.
- Closing is first one transaction: the `closed_days` row, its audit row (`centre.closure`,
  with the bookings it found) and the day's slots closed to new bookings (unbooked ones
  removed, booked ones held at what they hold), so no seat of the day can be booked from
  then on, whatever a process still has cached. Every process then reads the centres anew.
- Each booking of the day is then cancelled through the citizens' own use case
  (`Booking.cancel`, with the staff member standing in for the birth date): its seats, its
  audit row (`booking.cancel`, reason `centre.closure`) and its SMS and e-mail, in the
  booking's language, saying why and linking to the portal's booking management to book
  anew, all in that cancellation's transaction.
- The seats those cancellations free are closed again at the end, and a booking that came
  in meanwhile through a stale cache is cancelled the same way, until a pass finds none.
- Opening a closed day removes the row (audited) and gives the day its slots back as the
  hours and lanes say (centres_service.py, `follow`), in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin import centres_repository as repo
from kontingent.admin.centres_model import MAX_REASON
from kontingent.admin.centres_repository import DayBooking
from kontingent.admin.centres_service import AdminCentres, By, CentreFields, Outcome, layout_of
from kontingent.booking.service import Booking
from kontingent.errors import Conflict, InvalidInput
from kontingent.inventory import catalogue_version
from kontingent.inventory.model import local_day
from kontingent.notifications.messages import ClosureNotice
from kontingent.staff import audit
from kontingent.staff.audit import Entry

if TYPE_CHECKING:
    from kontingent.services import Services

MAX_PASSES = 3  # closing again after the cancellations; a booking slipping in twice is news


@dataclass(frozen=True, slots=True)
class Closed:
    """A day closed: whether it was new, and the codes of the bookings cancelled."""

    day: date
    added: bool
    cancelled: list[str]


class DayClosures:
    def __init__(self, centres: AdminCentres, booking: Booking, portal_url: str) -> None:
        self.centres = centres
        self.booking = booking
        self.link = f"{portal_url.rstrip('/')}/manage"  # where people book anew

    @classmethod
    def of(cls, services: Services) -> DayClosures:
        return cls(AdminCentres.of(services), services.booking, services.settings.portal_url)

    def check_day(self, day: date, reason: str) -> None:
        today = local_day(self.centres.clock.now())
        if day < today:
            raise InvalidInput(
                f"closures.add: {day.isoformat()} has passed: close today or a later day",
                code="invalid_closure",
                field="closures.add.day",
            )
        if len(reason) > MAX_REASON:
            raise InvalidInput(
                f"closures.add: the reason has at most {MAX_REASON} characters",
                code="invalid_closure",
                field="closures.add.reason",
            )

    async def bookings_on(self, centre_id: int, day: date) -> list[DayBooking]:
        async with self.centres.db.read() as conn:
            await self.centres.load(conn, centre_id)
            return await repo.bookings_on(conn, centre_id, day)

    async def refuse_unconfirmed(self, centre_id: int, days: list[date]) -> None:
        """409 listing the bookings of the days to close, when any has some."""
        found = {d.isoformat(): await self.bookings_on(centre_id, d) for d in days}
        listed = {d: [b.code for b in found[d]] for d in found if found[d]}
        if listed:
            count = sum(len(v) for v in listed.values())
            raise Conflict(
                f"{count} booking(s) on the days to close: send cancel_bookings true to "
                "cancel them (each person gets an SMS and an e-mail with a link to book anew)",
                code="closure_has_bookings",
                bookings=listed,
            )

    async def close(self, centre_id: int, day: date, reason: str, by: By) -> Closed:
        """Close the centre on `day` and cancel its bookings (the caller confirmed)."""
        self.check_day(day, reason)
        found = await self.bookings_on(centre_id, day)
        added = await self._shut(centre_id, day, reason, by, len(found))
        notice = ClosureNotice(day, reason, self.link)
        cancelled: list[str] = []
        for _ in range(MAX_PASSES):
            for booking in found:
                await self._cancel(booking.code, day, notice, by)
                cancelled.append(booking.code)
            await self._shut(centre_id, day, reason, by, None)
            found = await self.bookings_on(centre_id, day)
            if not found:
                break
        return Closed(day, added, cancelled)

    async def _shut(
        self, centre_id: int, day: date, reason: str, by: By, bookings: int | None
    ) -> bool:
        """Record the closed day (`bookings` not None: first pass, audited) and close its
        slots to new bookings, in one transaction."""
        now = self.centres.clock.now()

        async def work(conn: AsyncConnection) -> tuple[bool, int]:
            view = await self.centres.load(conn, centre_id)
            added = False
            if bookings is not None:
                added = await repo.add_closed_day(
                    conn, centre_id, day, reason, by.actor.username, now
                )
                entry = by.entry("centre.closure", centre_id, day=day.isoformat(),
                                 closed=True, reason=reason, bookings=bookings)  # fmt: skip
                await audit.record(conn, entry, now)
            layout = layout_of(view)
            plan = await self.centres.follow(conn, centre_id, layout, layout, now, (day, day))
            await repo.apply_plan(conn, centre_id, plan)
            return added, await catalogue_version.bump(conn)

        added, version = await self.centres.db.run_write(work)
        self.centres.changed(version)
        return added

    async def _cancel(self, code: str, day: date, notice: ClosureNotice, by: By) -> None:
        details = {"reason": "centre.closure", "day": day.isoformat()}
        entry = Entry(by.actor, "booking.cancel", by.channel, ip=by.ip, details=details)
        await self.booking.cancel(code, None, staff=entry, closure=notice)

    async def open(self, centre_id: int, day: date, by: By) -> bool:
        """Open a closed day again, its slots given back; False when it was not closed."""
        now = self.centres.clock.now()

        async def work(conn: AsyncConnection) -> tuple[bool, int | None]:
            view = await self.centres.load(conn, centre_id)
            if not await repo.remove_closed_day(conn, centre_id, day):
                return False, None
            entry = by.entry("centre.closure", centre_id, day=day.isoformat(), closed=False)
            await audit.record(conn, entry, now)
            layout = layout_of(view)
            plan = await self.centres.follow(conn, centre_id, layout, layout, now, (day, day))
            await repo.apply_plan(conn, centre_id, plan)
            return True, await catalogue_version.bump(conn)

        opened, version = await self.centres.db.run_write(work)
        self.centres.changed(version)
        return opened


@dataclass(frozen=True, slots=True)
class Change:
    """A PATCH of a centre: its settings, days to close (day, reason) and to open again."""

    fields: CentreFields
    close: list[tuple[date, str]]
    open: list[date]
    cancel_bookings: bool = False
    dry_run: bool = False


@dataclass(frozen=True, slots=True)
class Changed:
    outcome: Outcome
    closed: list[Closed]
    opened: list[date]
    pending: dict[str, list[str]]  # on a dry run: the bookings of each day to close


async def change_centre(services: Services, centre_id: int, change: Change, by: By) -> Changed:
    """Settings first (one transaction), then the days opened, then the days closed (each
    its own, with its cancellations): every refusal comes before the first write."""
    closures = DayClosures.of(services)
    for day, reason in change.close:
        closures.check_day(day, reason)
    days = [d for d, _ in change.close]
    if days and not change.cancel_bookings and not change.dry_run:
        await closures.refuse_unconfirmed(centre_id, days)
    outcome = await closures.centres.change(centre_id, change.fields, by, dry_run=change.dry_run)
    if change.dry_run:
        found = {d.isoformat(): await closures.bookings_on(centre_id, d) for d in days}
        return Changed(outcome, [], [], {d: [b.code for b in v] for d, v in found.items()})
    opened = [d for d in change.open if await closures.open(centre_id, d, by)]
    closed = [await closures.close(centre_id, d, reason, by) for d, reason in change.close]
    if opened or closed:
        outcome = replace(outcome, centre=await closures.centres.get(centre_id))
    return Changed(outcome, closed, opened, {})
