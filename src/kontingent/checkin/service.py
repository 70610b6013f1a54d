"""The centre's door: checking people in by their booking code or the QR code of their
confirmation.

Invariants kept here:
- One transaction per check-in: the appointments change and the audit row is written
  together, or neither happens.
- The order of refusals keeps other centres' bookings private: an unknown code (404), then a
  booking of a centre the account is not bound to (403 `wrong_centre`, nothing more said),
  then cancelled, wrong day or no-show (409, from model.due_on). A refusal changes nothing.
- Checking in twice is harmless: appointments already checked in (or vaccinated) stay as
  they are and the answer is the same, marked `already`; the second scan is audited too, so
  the log shows every scan at the door.
- A QR text is read with the key alone (model.read_ticket) before the database is asked:
  a forged or altered code is refused without a query.
- A refused scan is audited too (`checkin_refused`, with the reason's code), in a
  transaction of its own after the check-in's rolled back: the log shows forged codes and
  other centres' bookings tried at the door, and the refusal still changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.booking.model import normalise_code
from kontingent.checkin import model
from kontingent.checkin import repository as repo
from kontingent.checkin.model import Arrival
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import Forbidden, InvalidInput, KontingentError, NotFound
from kontingent.inventory.model import local_day
from kontingent.staff import audit
from kontingent.staff.audit import Actor, Entry
from kontingent.staff.guards import require_centre
from kontingent.staff.model import Principal


@dataclass(frozen=True, slots=True)
class CheckedIn:
    code: str
    centre_id: int
    appointments: list[Arrival]  # today's, as they are after the check-in
    already: bool  # nothing changed: every one was checked in before


class Door:
    def __init__(self, db: Database, clock: Clock, secret_key: str) -> None:
        self.db = db
        self.clock = clock
        self.secret_key = secret_key

    def code_of(self, code: str | None, qr: str | None) -> tuple[str, str]:
        """(booking code, "code" or "qr"): from exactly one of a typed code and a QR text."""
        if (code is None) == (qr is None):
            raise InvalidInput(
                'send either "code" (the booking code as typed) or "qr" (the text of the '
                "confirmation's QR code), not both",
                code="invalid_checkin",
            )
        if qr is not None:
            return model.read_ticket(self.secret_key, qr), "qr"
        found = normalise_code(code or "")
        if found is None:
            raise InvalidInput(
                "a booking code has 12 letters and digits, like K7QM-3XPA-9RTD",
                code="invalid_code",
                field="code",
            )
        return found, "code"

    async def check_in(
        self,
        principal: Principal,
        code: str | None,
        qr: str | None,
        channel: str,
        ip: str | None,
        *,
        at: int | None = None,
    ) -> CheckedIn:
        """`at`: the centre whose door this is (the console's page); a booking of another
        centre is refused there even for an admin, who may see every centre."""
        try:
            return await self._check_in(principal, code, qr, channel, ip, at)
        except KontingentError as exc:
            await self._refused(principal, code, qr, exc, channel, ip)
            raise

    async def _refused(
        self,
        principal: Principal,
        code: str | None,
        qr: str | None,
        exc: KontingentError,
        channel: str,
        ip: str | None,
    ) -> None:
        """The audit row of a refused scan, in a transaction of its own (the check-in's rolled
        back): a forged code or another centre's booking at the door is worth knowing."""
        shown = normalise_code(code or "") or model.ticket_code((qr or "").strip().upper())
        entry = Entry(
            Actor.of(principal), "checkin_refused", channel, target=shown or None, ip=ip,
            details={"by": "qr" if qr is not None else "code", "reason": exc.code},
        )  # fmt: skip

        async def work(conn: AsyncConnection) -> None:
            await audit.record(conn, entry, self.clock.now())

        await self.db.run_write(work)

    async def _check_in(
        self,
        principal: Principal,
        code: str | None,
        qr: str | None,
        channel: str,
        ip: str | None,
        at: int | None,
    ) -> CheckedIn:
        booking_code, way = self.code_of(code, qr)
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> CheckedIn:
            booked = await repo.booking(conn, booking_code)
            if booked is None:
                raise NotFound(f"no booking has the code {booking_code}", code="unknown_code")
            require_centre(principal, booked.centre_id)
            if at is not None and booked.centre_id != at:
                raise Forbidden(
                    f"booking {booking_code} is for another centre: send the person there",
                    code="wrong_centre",
                )
            due = model.due_on(booked, local_day(now))
            ids = [a.appointment_id for a in due]
            changed = await repo.check_in(conn, ids, principal.user_id, now)
            entry = Entry(
                Actor.of(principal), "checkin", channel, target=booking_code, ip=ip,
                details={"by": way, "checked_in": changed, "centre_id": booked.centre_id},
            )  # fmt: skip
            await audit.record(conn, entry, now)
            after = [_checked_in(a, changed) for a in due]
            return CheckedIn(booking_code, booked.centre_id, after, already=not changed)

        return await self.db.run_write(work)


def _checked_in(arrival: Arrival, changed: list[int]) -> Arrival:
    return replace(arrival, status="checked_in") if arrival.appointment_id in changed else arrival
