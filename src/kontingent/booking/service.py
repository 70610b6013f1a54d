"""Booking use cases: book an offer, look a booking up, cancel it.

Invariants kept here:
- All slots of an offer, for all persons, are taken in one transaction or none are; the
  booking, its persons, appointments, notifications and idempotency record commit with them.
- The same request with the same Idempotency-Key books once and answers the same.
- A person holds one active booking per campaign; a verification books once; a waiting-room
  admission books once (recorded with the booking, so only a booking that committed uses it
  up, and a retry of that booking with its Idempotency-Key still gets the stored answer).
- Cancelling frees the seats in the same transaction and drops the cached availability.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.booking import model
from kontingent.booking import repository as repo
from kontingent.booking.people import check_person, parse_date
from kontingent.booking.pg_statement import NewBooking, Remembered
from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.eligibility.model import booking_refusal
from kontingent.errors import Conflict, Forbidden, InvalidInput, NotFound
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.model import Appointment, Centre, Vaccine, local_day
from kontingent.inventory.repository import Catalogue
from kontingent.inventory.schemas import OfferOut
from kontingent.inventory.service import Inventory
from kontingent.notifications import repository as outbox
from kontingent.notifications import texts
from kontingent.notifications.messages import (
    booking_messages,
    cancellation_messages,
    moved_messages,
)
from kontingent.notifications.model import DEFAULT_CAP, BookedAppointment, RecipientCap
from kontingent.verification.model import TokenClaims

MAX_SLOT_IDS = 8


@dataclass(frozen=True, slots=True)
class BookingView:
    code: str
    status: str
    centre_id: int
    vaccine: str
    persons: list[model.Person]
    appointments: list[Appointment]
    language: str = "de"  # its messages are written in it


class SlotTaken(Conflict):
    code = "slot_taken"


@dataclass(frozen=True, slots=True)
class _Request:
    claims: TokenClaims
    key: str | None
    hash: str
    channel: str
    admission: str | None = None  # the waiting room's ticket the booking is made under
    language: str = "de"


@dataclass(frozen=True, slots=True)
class _Plan:
    catalogue: Catalogue
    centre: Centre
    vaccine: Vaccine
    people: list[model.Person]
    booked: list[Appointment]


def _request_hash(persons: Any, slot_ids: Any) -> str:
    canonical = msgspec.json.encode({"persons": persons, "slot_ids": slot_ids}, order="sorted")
    return hashlib.sha256(canonical).hexdigest()


def _violated(exc: repo.Clash) -> str:
    text = exc.constraint
    for marker, name in (
        ("person_key", "person"),
        ("uq_persons_active_per_campaign", "person"),
        ("verification_id", "verification"),
        ("idempotency_keys", "idempotency"),
        ("bookings.code", "code"),
        ("uq_bookings_code", "code"),
        ("admission", "admission"),
    ):
        if marker in text:
            return name
    return "other"


class Booking:
    def __init__(
        self, db: Database, clock: Clock, inventory: Inventory, cap: RecipientCap = DEFAULT_CAP
    ) -> None:
        self.db = db
        self.clock = clock
        self.inventory = inventory
        self.cap = cap  # messages per recipient (notifications/repository.py)

    async def book(
        self,
        claims: TokenClaims,
        persons: Sequence[Mapping[str, Any]],
        slot_ids: Sequence[int],
        idempotency_key: str | None = None,
        channel: str = "web",
        admission: str | None = None,
        *,
        language: str = "de",
        vaccine: str | None = None,
    ) -> BookingView:
        """`admission`: the ticket of the waiting-room admission this booking uses, if any
        (WaitingRoom.booking hands it over); it is written with the booking. `language`: the
        one its messages are written in. `vaccine`: the vaccine the person chose, if the
        caller knows it; slots of another vaccine are refused rather than booked."""
        request = _Request(
            claims,
            idempotency_key,
            _request_hash(persons, slot_ids),
            channel,
            admission,
            texts.language(language),
        )
        if idempotency_key is not None:
            replay = await self._replay(claims.phone, idempotency_key, request.hash)
            if replay is not None:
                return replay
        plan = await self._plan(claims, persons, slot_ids)
        _check_vaccine(plan.vaccine, vaccine)
        for _ in range(3):  # a new code on the 1-in-2**60 chance of a clash
            try:
                view = await self._store(plan, model.new_code(), request)
            except repo.Clash as exc:
                replay = await self._after_clash(exc, request)
                if replay is None:
                    continue
                return replay
            except SlotTaken as exc:
                await self._attach_fresh_offers(exc, plan)
                raise
            seats = model.seats_per_slot([a.slot_id for a in plan.booked])
            self.inventory.seats_taken(plan.centre.id, plan.vaccine.code, seats)
            return view
        raise RuntimeError("could not draw an unused booking code")

    async def _attach_fresh_offers(self, exc: SlotTaken, plan: _Plan) -> None:
        """A loser gets what is free now, so the next click can succeed."""
        wanted = [a.slot_id for a in plan.booked]
        await self.inventory.refresh_slots(plan.centre.id, plan.vaccine.code, wanted)
        fresh = await self.inventory.offers(plan.centre.id, plan.vaccine.code, len(plan.people))
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

    async def _replay(self, scope: str, key: str, request_hash: str) -> BookingView | None:
        if not 1 <= len(key) <= 100:
            raise InvalidInput(
                "Idempotency-Key must be 1 to 100 characters", code="invalid_idempotency_key"
            )
        async with self.db.read() as conn:
            stored = await repo.stored_response(conn, scope, key)
        if stored is None:
            return None
        if stored.request_hash != request_hash:
            raise InvalidInput(
                "this Idempotency-Key was used for a different booking request: use a new key "
                "for a new request",
                code="idempotency_key_reused",
            )
        return msgspec.json.decode(stored.body, type=BookingView)

    async def _after_clash(self, exc: repo.Clash, request: _Request) -> BookingView | None:
        """Turn a unique-constraint clash into the answer it means; None to retry."""
        if request.key is not None:
            replay = await self._replay(request.claims.phone, request.key, request.hash)
            if replay is not None:
                return replay
        kind = _violated(exc)
        if kind == "person":
            raise Conflict(
                "a person in this request already has an active booking: look it "
                "up or cancel it first",
                code="already_booked",
            )
        if kind == "verification":
            raise Conflict(
                "this phone verification was used for a booking already: verify "
                "the phone again for another booking",
                code="token_used",
            )
        if kind == "admission":
            raise Forbidden(
                "this admission was already used for a booking: join the queue at "
                "POST /api/v1/queue and wait until you are admitted",
                code="admission_used",
            )
        if kind == "code":
            return None
        raise exc

    async def _plan(
        self, claims: TokenClaims, persons: Sequence[Mapping[str, Any]], slot_ids: Sequence[int]
    ) -> _Plan:
        """Validate everything that can be checked before taking seats; nothing is written."""
        people = self._people(claims, persons)
        if not slot_ids or len(slot_ids) > MAX_SLOT_IDS:
            raise InvalidInput(
                "slot_ids must hold the slot ids of one offer",
                code="invalid_offer",
                field="slot_ids",
            )
        catalogue = await self.inventory.catalogue()
        found = await self.inventory.slot_infos(slot_ids)
        missing = sorted(set(slot_ids) - set(found))
        if missing:
            raise InvalidInput(
                f"unknown slot ids {missing}: take them from an offer",
                code="unknown_slot",
                field="slot_ids",
            )
        slots = [found[i] for i in slot_ids]
        vaccine = catalogue.vaccines[slots[0].vaccine_code]
        booked = model.assign_appointments(slots, vaccine, len(people))
        centre = catalogue.centres[slots[0].centre_id]
        self._check_bookable(catalogue, slots)
        self._check_eligible(catalogue, people, vaccine, centre, booked[0].starts_at)
        return _Plan(catalogue, centre, vaccine, people, booked)

    def _people(
        self, claims: TokenClaims, persons: Sequence[Mapping[str, Any]]
    ) -> list[model.Person]:
        if not 1 <= len(persons) <= model.MAX_PERSONS:
            raise InvalidInput(
                "book for one or two persons", code="invalid_persons", field="persons"
            )
        errors: dict[str, str] = {}
        today = local_day(self.clock.now())
        people = [check_person(p, i, today, claims.phone, errors) for i, p in enumerate(persons)]
        checked = [p for p in people if p is not None]
        if errors or len(checked) != len(persons):
            first = next(iter(errors.items()))
            raise InvalidInput(f"{first[0]}: {first[1]}", code="invalid_person", fields=errors)
        if len({p.key for p in checked}) != len(checked):
            raise InvalidInput(
                "the same person is named twice", code="invalid_persons", field="persons"
            )
        return checked

    def _check_bookable(self, catalogue: Catalogue, slots: Sequence[model.SlotInfo]) -> None:
        now, window = self.clock.now(), catalogue.campaign
        for slot in slots:
            refused = slot.refusal(now, window.booking_from, window.booking_until)
            if refused is not None:
                raise InvalidInput(
                    f"{refused[1]}; take a current offer",
                    code="slot_not_bookable",
                    field="slot_ids",
                    reason=refused[0],
                    slot_id=slot.id,
                )

    def _check_eligible(
        self,
        catalogue: Catalogue,
        people: Sequence[model.Person],
        vaccine: Vaccine,
        centre: Centre,
        first_start: Any,
    ) -> None:
        now = self.clock.now()
        for i, person in enumerate(people):
            parts = catalogue.postcodes.get(person.postcode, ())
            if not parts:
                raise InvalidInput(
                    f"postcode {person.postcode} is not in this campaign's region: check it",
                    code="unknown_postcode",
                    field=f"persons[{i}].postcode",
                )
            # A postcode spanning districts: the person lives in one of them, and the
            # eligibility check asked which; any of them that allows this centre will do.
            refusals = [
                booking_refusal(
                    cohorts=catalogue.cohorts,
                    vaccine=vaccine,
                    centre=centre,
                    birth_date=person.birth_date,
                    day=local_day(first_start),
                    district_id=part.district_id,
                    region_id=catalogue.districts[part.district_id][1],
                    now=now,
                )
                for part in parts
                if part.district_id is not None
            ]
            refusal = None if None in refusals else refusals[0]
            if refusal is not None:
                raise InvalidInput(
                    f"persons[{i}]: {refusal}",
                    code="not_eligible",
                    field=f"persons[{i}]",
                    reason=refusal.reason,
                )

    async def _store(self, plan: _Plan, code: str, request: _Request) -> BookingView:
        """Take the seats and write everything, all or nothing: one autocommit statement on
        PostgreSQL, one transaction of several statements on SQLite."""
        now, window = self.clock.now(), plan.catalogue.campaign
        view = BookingView(
            code,
            "booked",
            plan.centre.id,
            plan.vaccine.code,
            plan.people,
            plan.booked,
            request.language,
        )
        remembered = None
        if request.key is not None:
            body = msgspec.json.encode(view)
            remembered = Remembered(request.claims.phone, request.key, request.hash, 201, body)
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
            messages=self._confirmations(plan, code, request.claims.phone, request.language),
            remembered=remembered,
            cap=self.cap,
            admission=request.admission,
            language=request.language,
        )
        if self.db.has_driver:
            booking_id = await self.db.run_driver(partial(repo.book_seats_pg, b=new))
            if booking_id is None:
                raise _slot_taken()
            return view

        async def work(conn: AsyncConnection) -> None:
            if await repo.book_seats(conn, new) is None:
                raise _slot_taken()  # rolls back the seats taken so far

        await self.db.run_write(work)
        return view

    def _confirmations(
        self, plan: _Plan, code: str, phone: str, language: str, rebooked: bool = False
    ) -> list[Any]:
        return booking_messages(
            code=code,
            phone=phone,
            emails=[p.email for p in plan.people if p.email],
            centre=plan.centre.name,
            address=_address(plan.centre),
            vaccine=plan.vaccine.name,
            doses=plan.vaccine.doses,
            appointments=_calendar_events(plan.centre, plan.people, plan.booked),
            lang=language,
            rebooked=rebooked,
        )

    async def find(self, code_text: str, birth_date_text: str) -> BookingView:
        code, born = self.identify(code_text, birth_date_text)
        async with self.db.read() as conn:
            view = await self._load(conn, code, born)
        return view

    async def cancel(self, code_text: str, birth_date_text: str) -> BookingView:
        code, born = self.identify(code_text, birth_date_text)
        now = self.clock.now()

        async def work(conn: AsyncConnection) -> BookingView:
            view = await self._load(conn, code, born)
            row = await repo.find_booking(conn, code)
            assert row is not None
            seats = await repo.mark_cancelled(conn, row.id, now)
            if seats:
                await repo.free_seats(conn, seats)
                emails = [p.email for p in view.persons if p.email]
                centre = (await self.inventory.catalogue()).centres[view.centre_id]
                messages = cancellation_messages(
                    code=code,
                    phone=row.phone,
                    emails=emails,
                    location=f"{centre.name}, {_address(centre)}",
                    appointments=_calendar_events(centre, view.persons, view.appointments),
                    lang=view.language,
                )
                await outbox.enqueue(conn, messages, now, self.cap)
            return replace(view, status="cancelled")

        view = await self.db.run_write(work)
        self.inventory.slots_changed(view.centre_id, view.vaccine)
        return view

    def identify(self, code_text: str, birth_date_text: str) -> tuple[str, date]:
        """The code and birth date of a lookup, or InvalidInput (422) saying what to fix."""
        code = model.normalise_code(code_text)
        if code is None:
            raise InvalidInput(
                "a booking code has 12 letters and digits, like K7QM-3XPA-9RTD",
                code="invalid_code",
                field="code",
            )
        errors: dict[str, str] = {}
        born = parse_date(birth_date_text, "birth_date", errors)
        if born is None:
            raise InvalidInput(errors["birth_date"], code="invalid_birth_date", field="birth_date")
        return code, born

    async def _load(self, conn: AsyncConnection, code: str, born: date) -> BookingView:
        # One statement decides for a wrong code and a wrong date alike, so neither answers
        # measurably sooner and tells a guesser whether the code exists.
        row = await repo.find_booking_of(conn, code, born)
        if row is None:
            raise NotFound(
                "no booking with this code and birth date: check both", code="booking_not_found"
            )
        people = await repo.booking_persons(conn, row.id)
        booked = [a for a, _ in await repo.booking_appointments(conn, row.id)]
        return BookingView(
            row.code,
            row.status,
            row.centre_id,
            row.vaccine_code,
            people,
            booked,
            texts.language(row.language),
        )

    # --- rebooking ---------------------------------------------------------------------------

    async def rebook(
        self, code_text: str, birth_date_text: str, slot_ids: Sequence[int]
    ) -> BookingView:
        """Move a booking to another offer for the same persons.

        One transaction takes the new seats (the same conditional UPDATE as booking), frees the
        old ones and replaces the appointments, and queues the new confirmation. When a new
        slot was taken meanwhile nothing changes: SlotTaken carries fresh offers. Asking for
        the offer the booking already holds (a second click) changes nothing.
        """
        code, born = self.identify(code_text, birth_date_text)
        async with self.db.read() as conn:
            current = await self._load(conn, code, born)
        if current.status != "booked":
            raise Conflict(
                "this booking is cancelled: make a new booking instead", code="booking_cancelled"
            )
        plan = await self._rebook_plan(current, slot_ids)
        if sorted(a.slot_id for a in current.appointments) == sorted(slot_ids):
            return current
        try:
            view, old = await self.db.run_write(
                partial(self._move, plan=plan, code=code, before=current)
            )
        except SlotTaken as exc:
            await self._attach_fresh_offers(exc, plan)
            raise
        self.inventory.slots_changed(plan.centre.id, plan.vaccine.code)
        self.inventory.slots_changed(*old)
        return view

    async def _rebook_plan(self, current: BookingView, slot_ids: Sequence[int]) -> _Plan:
        """Check the new offer as booking does, for the persons already in the booking."""
        if not slot_ids or len(slot_ids) > MAX_SLOT_IDS:
            raise InvalidInput(
                "slot_ids must hold the slot ids of one offer",
                code="invalid_offer",
                field="slot_ids",
            )
        catalogue = await self.inventory.catalogue()
        async with self.db.read() as conn:
            found = await inventory_repo.slot_infos(conn, slot_ids)
        missing = sorted(set(slot_ids) - set(found))
        if missing:
            raise InvalidInput(
                f"unknown slot ids {missing}: take them from an offer",
                code="unknown_slot",
                field="slot_ids",
            )
        slots = [found[i] for i in slot_ids]
        vaccine = catalogue.vaccines[slots[0].vaccine_code]
        booked = model.assign_appointments(slots, vaccine, len(current.persons))
        centre = catalogue.centres[slots[0].centre_id]
        self._check_bookable(catalogue, slots)
        self._check_eligible(catalogue, current.persons, vaccine, centre, booked[0].starts_at)
        return _Plan(catalogue, centre, vaccine, list(current.persons), booked)

    async def _move(
        self, conn: AsyncConnection, *, plan: _Plan, code: str, before: BookingView
    ) -> tuple[BookingView, tuple[int, str]]:
        """The rebooking transaction; the new view and the (centre, vaccine) it left."""
        now = self.clock.now()
        row = await repo.lock_booked(conn, code)
        if row is None:
            raise Conflict(
                "this booking was cancelled meanwhile: make a new booking instead",
                code="booking_cancelled",
            )
        held = await repo.booked_seats(conn, row.id)
        wanted = model.seats_per_slot([a.slot_id for a in plan.booked])
        # Only the difference moves, so an offer sharing a slot with the old one still fits.
        take = {s: n - held.get(s, 0) for s, n in wanted.items() if n > held.get(s, 0)}
        give = {s: n - wanted.get(s, 0) for s, n in held.items() if n > wanted.get(s, 0)}
        if take and not await repo.take_seats(
            conn, take, now, plan.catalogue.campaign.booking_until
        ):
            raise SlotTaken(
                "an appointment of this offer was taken meanwhile: choose one of the fresh "
                "offers; your booking is unchanged",
                offers=[],
            )
        await repo.free_seats(conn, give)
        await repo.replace_appointments(conn, row.id, plan.booked)
        await repo.move_booking(conn, row.id, plan.centre.id, plan.vaccine.code)
        messages = self._confirmations(plan, code, row.phone, before.language, rebooked=True)
        await outbox.enqueue(conn, messages + _moved(plan, code, before), now, self.cap)
        view = BookingView(
            code,
            "booked",
            plan.centre.id,
            plan.vaccine.code,
            plan.people,
            plan.booked,
            before.language,
        )
        return view, (row.centre_id, row.vaccine_code)


def _slot_taken() -> SlotTaken:
    return SlotTaken(
        "an appointment of this offer was taken meanwhile: choose one of the fresh offers",
        offers=[],
    )


def _address(centre: Centre) -> str:
    return f"{centre.street}, {centre.postcode} {centre.city}".lstrip(", ")


def _calendar_events(
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


def _moved(plan: _Plan, code: str, before: BookingView) -> list[Any]:
    """The iCalendar CANCEL of the appointments a rebooking gave up (kept ones stay)."""
    kept = {(a.slot_id, a.person) for a in plan.booked}
    gone = [a for a in before.appointments if (a.slot_id, a.person) not in kept]
    centre = plan.catalogue.centres[before.centre_id]
    return moved_messages(
        code=code,
        emails=[p.email for p in before.persons if p.email],
        location=f"{centre.name}, {_address(centre)}",
        appointments=_calendar_events(centre, before.persons, gone),
        doses=plan.catalogue.vaccines[before.vaccine].doses,
        lang=before.language,
    )


def _check_vaccine(booked: Vaccine, chosen: str | None) -> None:
    """The slots decide what is booked; a caller that says which vaccine the person chose
    gets a refusal instead of another vaccine (a form changed after the offers were shown)."""
    if chosen is not None and chosen != booked.code:
        raise InvalidInput(
            f"these slots are for {booked.name}, not for {chosen}: choose an offer of the "
            "vaccine you want",
            code="vaccine_mismatch",
            field="slot_ids",
            offered=booked.code,
            chosen=chosen,
        )
