"""Use cases of the centre console: a centre's day, recording a vaccination, marking
no-shows (one, or everyone not checked in), and letting a no-show's second dose go.

Invariants kept here:
- One transaction per use case: the appointments change and the audit row is written
  together, or neither happens. Refusals change nothing.
- Staff act only at their centres: `require_centre` on the appointment's own centre (so an
  id of another centre answers 403 `wrong_centre`, as the door does), after a 404 for an
  unknown id.
- A second-dose appointment is let go only when the caller says so (`free_second_dose`),
  for the same person of the same booking, and only while it is still booked. Its seat is
  given back in the same transaction (`slots.booked - 1`; the triggers of migration 0005 keep
  `slot_days`), and the offer caches are dropped after the commit, as a cancellation does
  (booking/service.py): the seat is bookable at once.
- Two lanes recording the same person at once record them once: the updates are
  conditional (repository.py), and the loser gets the same 409 a second click would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.booking import repository as booking_repo
from kontingent.centre import model
from kontingent.centre import repository as repo
from kontingent.centre.model import Visit
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import Conflict, NotFound
from kontingent.inventory.model import local_day
from kontingent.inventory.service import Inventory
from kontingent.staff import audit
from kontingent.staff.audit import Actor, Entry
from kontingent.staff.guards import require_centre
from kontingent.staff.model import Principal


@dataclass(frozen=True, slots=True)
class Missed:
    """What a no-show changed: the appointments marked, and second doses let go."""

    no_show: list[int]
    freed: list[int]


@dataclass(frozen=True, slots=True)
class Acting:
    """Who records, through which channel, from where."""

    principal: Principal
    channel: str
    ip: str | None

    def entry(self, action: str, target: str, **details: object) -> Entry:
        return Entry(
            Actor.of(self.principal), action, self.channel, target=target, ip=self.ip,
            details=details,
        )  # fmt: skip


class CentreDesk:
    def __init__(self, db: Database, clock: Clock, inventory: Inventory) -> None:
        self.db = db
        self.clock = clock
        self.inventory = inventory

    def today(self) -> date:
        return local_day(self.clock.now())

    async def day(self, principal: Principal, centre_id: int, on: date) -> list[Visit]:
        require_centre(principal, centre_id)
        async with self.db.read() as conn:
            return await repo.day(conn, centre_id, on)

    async def _visit(
        self, conn: AsyncConnection, principal: Principal, appointment_id: int
    ) -> Visit:
        found = await repo.visit(conn, appointment_id)
        if found is None:
            raise NotFound(
                f"no appointment has the id {appointment_id}", code="unknown_appointment"
            )
        require_centre(principal, found.centre_id)
        return found

    async def visit(self, principal: Principal, appointment_id: int) -> Visit:
        async with self.db.read() as conn:
            return await self._visit(conn, principal, appointment_id)

    async def second_dose_of(self, principal: Principal, appointment_id: int) -> Visit | None:
        """The second-dose appointment a no-show of this first dose could let go."""
        async with self.db.read() as conn:
            first = await self._visit(conn, principal, appointment_id)
            return await repo.second_dose(conn, first) if first.dose == 1 else None

    async def vaccinate(self, acting: Acting, appointment_id: int, batch_text: str) -> Visit:
        batch = model.normalise_batch(batch_text)
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> Visit:
            found = await self._visit(conn, acting.principal, appointment_id)
            model.vaccinate(found, local_day(now))
            if not await repo.vaccinate(conn, appointment_id, batch, acting.principal.user_id, now):
                raise Conflict(
                    "another lane recorded this person just now", code="already_recorded"
                )
            entry = acting.entry(
                "vaccinated", found.code, appointment_id=appointment_id, dose=found.dose,
                vaccine=found.vaccine, batch=batch, centre_id=found.centre_id,
            )  # fmt: skip
            await audit.record(conn, entry, now)
            return replace(found, status="vaccinated", batch=batch)

        return await self.db.run_write(work)

    async def no_show(self, acting: Acting, appointment_id: int, free_second_dose: bool) -> Missed:
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> tuple[Missed, Visit]:
            found = await self._visit(conn, acting.principal, appointment_id)
            model.no_show(found, now)
            missed = await self._mark(conn, acting, [found], free_second_dose)
            if not missed.no_show:
                raise Conflict(
                    "another lane recorded this person just now", code="already_recorded"
                )
            return missed, found

        missed, found = await self.db.run_write(work)
        if missed.freed:
            self.inventory.slots_changed(found.centre_id, found.vaccine)
        return missed

    async def no_show_all(
        self, acting: Acting, centre_id: int, on: date, free_second_doses: bool
    ) -> Missed:
        """Everyone of the day not checked in whose appointment began: no-show."""
        require_centre(acting.principal, centre_id)
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> tuple[Missed, list[Visit]]:
            due = model.missed(await repo.day(conn, centre_id, on), now)
            return await self._mark(conn, acting, due, free_second_doses), due

        missed, due = await self.db.run_write(work)
        for vaccine in sorted({v.vaccine for v in due}) if missed.freed else ():
            self.inventory.slots_changed(centre_id, vaccine)
        return missed

    async def _mark(
        self, conn: AsyncConnection, acting: Acting, visits: Sequence[Visit], free: bool
    ) -> Missed:
        """Mark `visits` as no-shows, let their second doses go when `free`, audit each."""
        now = self.clock.now()
        by = acting.principal.user_id
        marked = await repo.mark_no_shows(conn, [v.appointment_id for v in visits], by, now)
        freed: list[int] = []
        for visit in (v for v in visits if v.appointment_id in marked):
            second = await repo.second_dose(conn, visit) if free and visit.dose == 1 else None
            let_go = await self._let_go(conn, second, by) if second else []
            freed += let_go
            entry = acting.entry(
                "no_show", visit.code, appointment_id=visit.appointment_id, dose=visit.dose,
                centre_id=visit.centre_id, freed=let_go,
            )  # fmt: skip
            await audit.record(conn, entry, now)
        return Missed(marked, freed)

    @staticmethod
    async def _let_go(conn: AsyncConnection, second: Visit, by: int) -> list[int]:
        """Cancel a booked second dose and give its seat back; [its id], or [] if gone."""
        slot_id = await repo.let_go(conn, second.appointment_id, by)
        if slot_id is None:
            return []
        await booking_repo.free_seats(conn, {slot_id: 1})
        return [second.appointment_id]
