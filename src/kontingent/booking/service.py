"""Booking use cases: book an offer, look a booking up, cancel it (rebooking: rebooking.py;
idempotency keys and unique-constraint clashes: idempotency.py).

Invariants kept here:
- All slots of an offer, for all persons, are taken in one transaction or none are; the
  booking, its persons, appointments, notifications and idempotency record commit with them.
- The same request with the same Idempotency-Key books once and answers the same.
- A person holds one active booking per campaign; a verification books once; a waiting-room
  admission books once (recorded with the booking, so only a booking that committed uses it
  up, and a retry of that booking with its Idempotency-Key still gets the stored answer).
- Cancelling frees the seats in the same transaction and drops the cached availability.
- No slot on a day its centre is closed (a public holiday nobody opened) is booked or
  rebooked to, whoever sends its id: 409 `centre_closed`.
- A staff member (a hotline agent) books, cancels and rebooks through these same use cases:
  `StaffClaims` stands in for the verified phone and, in cancel and rebook, an audit entry
  for the birth date; the audit row commits in the action's own transaction, on both write
  paths, or not at all. Idempotency keys of staff bookings are per staff account.
- A centre's desk books second doses alone (`second_dose`, centre/spot.py): one dose-2
  seat per person inside the interval from the day the first dose was given, no cohort
  check (the campaign admitted the person at the first dose, here or elsewhere), the
  address optional. It takes the seats by the same conditional update as every booking,
  in one transaction with the retirement of the first dose's booked persons (so a person
  holds one active booking at every moment), on both databases: the step-by-step path,
  since the single PostgreSQL statement cannot order that UPDATE before its INSERT.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.booking import checks, idempotency, model
from kontingent.booking import repository as repo
from kontingent.booking.checks import MAX_SLOT_IDS
from kontingent.booking.model import BookingView, SecondDose, SlotTaken
from kontingent.booking.people import check_person, parse_date
from kontingent.booking.pg_statement import PHONE, NewBooking, Remembered
from kontingent.checkin.model import sign_ticket
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput, NotFound
from kontingent.i18n import pick
from kontingent.inventory.model import Appointment, Centre, Vaccine, local_day
from kontingent.inventory.repository import Catalogue
from kontingent.inventory.schemas import OfferOut
from kontingent.inventory.service import Inventory
from kontingent.notifications import repository as outbox
from kontingent.notifications.messages import (
    ClosureNotice,
    booking_messages,
    cancellation_messages,
)
from kontingent.notifications.model import DEFAULT_CAP, BookedAppointment, RecipientCap
from kontingent.staff import audit
from kontingent.staff.audit import Entry
from kontingent.verification.model import TokenClaims, normalise_caller_phone, normalise_phone

# BookingView and SlotTaken are the booking model's; callers have always found them here.
__all__ = ["MAX_SLOT_IDS", "Booking", "BookingView", "Plan", "SlotTaken", "StaffClaims"]


@dataclass(frozen=True, slots=True)
class StaffClaims:
    """A booking a staff member makes for a caller, in place of a verified phone's claims:
    no PIN (the staff member is authenticated), the caller's number as said on the phone
    (mobile or landline, E.164), and the audit entry written with the booking."""

    phone: str
    audit: Entry
    verification_id: None = field(default=None, init=False)

    @property
    def scope(self) -> str:
        """Idempotency keys are per staff account (its id: names may be reused)."""
        return f"staff:{self.audit.actor.user_id or self.audit.actor.username}"[:40]


Claims = TokenClaims | StaffClaims


@dataclass(frozen=True, slots=True)
class _Request:
    claims: Claims
    key: str | None
    hash: str
    channel: str
    admission: str | None = None  # the waiting room's ticket the booking is made under
    language: str = "de"
    second_dose: SecondDose | None = None

    @property
    def scope(self) -> str:
        """Where its idempotency key lives: the verified phone, or the staff account."""
        claims = self.claims
        return claims.scope if isinstance(claims, StaffClaims) else claims.phone


@dataclass(frozen=True, slots=True)
class Plan:
    """What a booking (or a rebooking) will write, checked before anything is written."""

    catalogue: Catalogue
    centre: Centre
    vaccine: Vaccine
    people: list[model.Person]
    booked: list[Appointment]


class Booking:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        inventory: Inventory,
        secret_key: str,
        cap: RecipientCap = DEFAULT_CAP,
    ) -> None:
        self.db = db
        self.clock = clock
        self.inventory = inventory
        self.secret_key = secret_key  # signs the door ticket of each confirmation
        self.cap = cap  # messages per recipient (notifications/repository.py)

    async def book(
        self,
        claims: Claims,
        persons: Sequence[Mapping[str, Any]],
        slot_ids: Sequence[int],
        idempotency_key: str | None = None,
        channel: str = "web",
        admission: str | None = None,
        *,
        language: str = "de",
        vaccine: str | None = None,
        second_dose: SecondDose | None = None,
    ) -> BookingView:
        """`admission`: the ticket of the waiting-room admission this booking uses, if any
        (WaitingRoom.booking hands it over); it is written with the booking. `language`: the
        one its messages are written in. `vaccine`: the vaccine the person chose, if the
        caller knows it; slots of another vaccine are refused rather than booked.
        `second_dose`: second doses only (see the module's docstring)."""
        hashed = (
            second_dose.fingerprint if second_dose else idempotency.request_hash(persons, slot_ids)
        )
        request = _Request(
            claims, idempotency_key, hashed, channel, admission, pick(language), second_dose
        )
        if idempotency_key is not None:
            replay = await idempotency.replay(self.db, request.scope, idempotency_key, hashed)
            if replay is not None:
                return replay
        plan = await self._plan(claims, persons, slot_ids, second_dose)
        checks.vaccine_chosen(plan.vaccine, vaccine)
        for _ in range(3):  # a new code on the 1-in-2**60 chance of a clash
            try:
                view = await self._store(plan, model.new_code(), request)
            except repo.Clash as exc:
                replay = await self._after_clash(exc, request)
                if replay is None:
                    continue
                return replay
            except SlotTaken as exc:
                await self.attach_fresh_offers(exc, plan, phone=channel == PHONE)
                raise
            seats = model.seats_per_slot([a.slot_id for a in plan.booked])
            self.inventory.seats_taken(plan.centre.id, plan.vaccine.code, seats)
            return view
        raise RuntimeError("could not draw an unused booking code")

    async def attach_fresh_offers(self, exc: SlotTaken, plan: Plan, *, phone: bool = False) -> None:
        """A loser gets what is free now, so the next click can succeed (on the phone
        channel, the seats kept for it included)."""
        wanted = [a.slot_id for a in plan.booked]
        await self.inventory.refresh_slots(plan.centre.id, plan.vaccine.code, wanted)
        fresh = await self.inventory.offers(
            plan.centre.id, plan.vaccine.code, len(plan.people), phone=phone
        )
        exc.details["offers"] = msgspec.to_builtins([OfferOut.of(o) for o in fresh.offers])
        exc.details["alternatives"] = [
            {
                "centre_id": a.centre.id,
                "name": a.centre.name,
                "distance_km": a.distance_km,
                "free_offers": a.free_offers,
            }
            for a in fresh.alternatives
        ]

    async def _after_clash(self, exc: repo.Clash, request: _Request) -> BookingView | None:
        """Turn a unique-constraint clash into the answer it means; None to retry."""
        if request.key is not None:
            replay = await idempotency.replay(self.db, request.scope, request.key, request.hash)
            if replay is not None:
                return replay
        idempotency.raise_for_clash(exc)
        return None

    async def _plan(
        self,
        claims: Claims,
        persons: Sequence[Mapping[str, Any]],
        slot_ids: Sequence[int],
        second: SecondDose | None = None,
    ) -> Plan:
        """Validate everything that can be checked before taking seats; nothing is written."""
        people = self._people(claims, persons, address=second is None)
        checks.offer_size(slot_ids)
        catalogue = await self.inventory.catalogue()
        slots = checks.known_slots(await self.inventory.slot_infos(slot_ids), slot_ids)
        vaccine = catalogue.vaccines[slots[0].vaccine_code]
        if second is None:
            booked = model.assign_appointments(slots, vaccine, len(people))
        else:
            booked = model.assign_second_doses(slots, vaccine, len(people), second.first_day)
        centre = catalogue.centres[slots[0].centre_id]
        now = self.clock.now()
        checks.bookable(catalogue, slots, now)
        if second is None:  # a second dose's person was admitted at the first
            checks.eligible(catalogue, people, vaccine, centre, booked[0].starts_at, now)
        return Plan(catalogue, centre, vaccine, people, booked)

    def _people(
        self, claims: Claims, persons: Sequence[Mapping[str, Any]], *, address: bool = True
    ) -> list[model.Person]:
        if not 1 <= len(persons) <= model.MAX_PERSONS:
            raise InvalidInput(
                "book for one or two persons", code="invalid_persons", field="persons"
            )
        errors: dict[str, str] = {}
        today = local_day(self.clock.now())
        # On the phone a caller may give a landline; a verified phone is a mobile's.
        phones = normalise_caller_phone if isinstance(claims, StaffClaims) else normalise_phone
        people = [
            check_person(p, i, today, claims.phone, errors, phones, address=address)
            for i, p in enumerate(persons)
        ]
        checked = [p for p in people if p is not None]
        if errors or len(checked) != len(persons):
            first = next(iter(errors.items()))
            raise InvalidInput(f"{first[0]}: {first[1]}", code="invalid_person", fields=errors)
        if len({p.key for p in checked}) != len(checked):
            raise InvalidInput(
                "the same person is named twice", code="invalid_persons", field="persons"
            )
        return checked

    async def _store(self, plan: Plan, code: str, request: _Request) -> BookingView:
        """Take the seats and write everything, all or nothing: one autocommit statement on
        PostgreSQL, one transaction of several statements on SQLite (and for second doses on
        the spot on both, with the first dose's persons retired in it)."""
        now, window = self.clock.now(), plan.catalogue.campaign
        view = BookingView(
            code,
            "booked",
            plan.centre.id,
            plan.vaccine.code,
            plan.people,
            plan.booked,
            request.language,
            request.channel,
        )
        remembered = None
        if request.key is not None:
            body = msgspec.json.encode(view)
            remembered = Remembered(request.scope, request.key, request.hash, 201, body)
        claims = request.claims
        entry = replace(claims.audit, target=code) if isinstance(claims, StaffClaims) else None
        new = NewBooking(
            seats=model.seats_per_slot([a.slot_id for a in plan.booked]),
            now=now,
            until=window.booking_until,
            code=code,
            campaign_id=window.id,
            centre_id=plan.centre.id,
            vaccine_code=plan.vaccine.code,
            phone=request.claims.phone,
            verification_id=request.claims.verification_id,
            channel=request.channel,
            people=plan.people,
            booked=plan.booked,
            messages=self.confirmations(plan, code, request.claims.phone, request.language),
            remembered=remembered,
            cap=self.cap,
            admission=request.admission,
            language=request.language,
            audit=entry,
        )
        second = request.second_dose
        if self.db.has_driver and second is None:
            booking_id = await self.db.run_driver(partial(repo.book_seats_pg, b=new))
            if booking_id is None:
                raise _slot_taken()
            return view

        async def work(conn: AsyncConnection) -> None:
            if second is not None and second.retire is not None:
                await repo.retire_persons(conn, *second.retire)
            if await repo.book_seats(conn, new) is None:
                raise _slot_taken()  # rolls back the seats taken so far

        await self.db.run_write(work)
        return view

    def confirmations(
        self, plan: Plan, code: str, phone: str, language: str, rebooked: bool = False
    ) -> list[Any]:
        return booking_messages(
            code=code,
            phone=phone,
            emails=[p.email for p in plan.people if p.email],
            centre=plan.centre.name,
            address=address(plan.centre),
            vaccine=plan.vaccine.name,
            doses=plan.vaccine.doses,
            appointments=calendar_events(plan.centre, plan.people, plan.booked),
            lang=language,
            rebooked=rebooked,
            ticket=sign_ticket(self.secret_key, code),
        )

    async def find(self, code_text: str, birth_date_text: str) -> BookingView:
        code, born = self.identify(code_text, birth_date_text)
        async with self.db.read() as conn:
            view = await self.load(conn, code, born)
        return view

    async def cancel(
        self,
        code_text: str,
        birth_date_text: str | None,
        *,
        staff: Entry | None = None,
        closure: ClosureNotice | None = None,
    ) -> BookingView:
        """`staff`: a staff member cancels for a caller; the audit entry stands in for the
        birth date (None then) and is written in the cancellation's transaction. `closure`:
        the centre closes that day, which the messages say, with the link to book anew."""
        code, born = self.proven(code_text, birth_date_text, staff)
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> BookingView:
            view = await self.load(conn, code, born)
            row = await repo.find_booking(conn, code)
            assert row is not None
            if staff is not None:
                await audit.record(conn, replace(staff, target=code), now)
            seats = await repo.mark_cancelled(conn, row.id, now)
            if seats:
                await repo.free_seats(conn, seats)
                emails = [p.email for p in view.persons if p.email]
                catalogue = await self.inventory.catalogue()
                centre = catalogue.centres[view.centre_id]
                vaccine = catalogue.vaccines[view.vaccine]
                messages = cancellation_messages(
                    code=code,
                    phone=row.phone,
                    emails=emails,
                    location=f"{centre.name}, {address(centre)}",
                    vaccine=vaccine.name,
                    appointments=calendar_events(centre, view.persons, view.appointments),
                    doses=vaccine.doses,
                    lang=view.language,
                    closure=closure,
                )
                await outbox.enqueue(conn, messages, now, self.cap)
            return replace(view, status="cancelled")

        view = await self.db.run_write(work)
        self.inventory.slots_changed(view.centre_id, view.vaccine)
        return view

    def proven(
        self, code_text: str, birth_date_text: str | None, staff: Entry | None
    ) -> tuple[str, date | None]:
        """`identify`, or for a staff member (`staff`, who is the proof instead of a birth
        date) the code alone."""
        if birth_date_text is not None:
            return self.identify(code_text, birth_date_text)
        if staff is None:
            raise RuntimeError("a booking is proven by a birth date or a staff member")
        return self.identify_code(code_text), None

    @staticmethod
    def identify_code(code_text: str) -> str:
        code = model.normalise_code(code_text)
        if code is None:
            raise InvalidInput(
                "a booking code has 12 letters and digits, like K7QM-3XPA-9RTD",
                code="invalid_code",
                field="code",
            )
        return code

    def identify(self, code_text: str, birth_date_text: str) -> tuple[str, date]:
        """The code and birth date of a lookup, or InvalidInput (422) saying what to fix."""
        code = self.identify_code(code_text)
        errors: dict[str, str] = {}
        born = parse_date(birth_date_text, "birth_date", errors)
        if born is None:
            raise InvalidInput(errors["birth_date"], code="invalid_birth_date", field="birth_date")
        return code, born

    async def load(self, conn: AsyncConnection, code: str, born: date | None) -> BookingView:
        """The booking of `code` holding a person born on `born` (None: a staff member
        asks, who needs no birth date), or NotFound."""
        if born is None:
            row = await repo.find_booking(conn, code)
            if row is None:
                raise NotFound("no booking with this code: check it", code="booking_not_found")
            return await self.view_of(conn, row)
        # One statement decides for a wrong code and a wrong date alike, so neither answers
        # measurably sooner and tells a guesser whether the code exists.
        row = await repo.find_booking_of(conn, code, born)
        if row is None:
            raise NotFound(
                "no booking with this code and birth date: check both", code="booking_not_found"
            )
        return await self.view_of(conn, row)

    @staticmethod
    async def view_of(conn: AsyncConnection, row: Any) -> BookingView:
        """The view of a booking row, with its persons and appointments."""
        people = await repo.booking_persons(conn, row.id)
        booked = [a for a, _ in await repo.booking_appointments(conn, row.id)]
        return BookingView(
            row.code,
            row.status,
            row.centre_id,
            row.vaccine_code,
            people,
            booked,
            pick(row.language),
            row.channel,
        )

    async def rebook(
        self,
        code_text: str,
        birth_date_text: str | None,
        slot_ids: Sequence[int],
        *,
        channel: str = "web",
        staff: Entry | None = None,
    ) -> BookingView:
        """Move a booking to another offer for the same persons (booking/rebooking.py);
        `channel` "phone" may take the seats kept for the hotline, as a phone booking does;
        `staff` as for `cancel`."""
        from kontingent.booking import rebooking  # it builds on this module

        return await rebooking.rebook(
            self, code_text, birth_date_text, slot_ids, channel=channel, staff=staff
        )


def _slot_taken() -> SlotTaken:
    return SlotTaken(
        "an appointment of this offer was taken meanwhile: choose one of the fresh offers",
        offers=[],
    )


def address(centre: Centre) -> str:
    return f"{centre.street}, {centre.postcode} {centre.city}".lstrip(", ")


def calendar_events(
    centre: Centre, people: Sequence[model.Person], booked: Sequence[Appointment]
) -> list[BookedAppointment]:
    """The appointments as calendar events: the centre's slot length, and slot and person
    to name each event (an appointment that moves gets a new event)."""
    names = [f"{p.first_name} {p.last_name}" for p in people]
    return [
        BookedAppointment(
            a.starts_at, a.dose, names[a.person], centre.slot_minutes, a.slot_id, a.person
        )
        for a in booked
    ]
