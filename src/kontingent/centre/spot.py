"""The second dose on the spot (issue 16): a person whose first dose was given today at this
centre (found by booking code), or who brings a first dose given elsewhere (name, birth
date, mobile, e-mail, first-dose date and vaccine typed in), and who has no second
appointment, gets one at this centre inside the vaccine's interval.

Invariants kept here:
- The booking is `Booking.book` with `StaffClaims` and channel `on_site`: a one-appointment
  booking of dose 2 per person (side by side for a couple found by code), taken by the
  same conditional update as a web or phone booking, so a desk and the portal racing for
  the last seat can never overbook it. Its confirmation (SMS to a mobile, e-mail if given)
  is queued through the outbox in its transaction, in the booking's language: the first
  booking's for a code, the desk's page language otherwise.
- Seats: public ones only, never the seats kept for the hotline (`phone_reserved`). A
  second dose lies three weeks or more ahead, where the reserve is still the hotline's
  share (it is released 48 hours before the slot); taking it would move the hotline's
  seats to the desk without need. The desk ranks the free slots (spot_model.ranked) and
  takes the best; when a seat goes meanwhile it takes the next, five at most.
- One active booking per person per campaign: the person's existing booking decides
  (spot_model.existing_refusal). A completed pair or a one-dose vaccine given: refused, no
  second dose is due. A single first dose (given, its second appointment cancelled or
  freed after a no-show): the new booking holds the second dose, and the first booking's
  person is retired (`persons.active` false) in the new booking's transaction; the first
  booking keeps its code and its record of the first dose.
- Every booking writes its audit row (`second_dose.book`, target the new code, details
  the way it was found, the first booking's code and the first-dose date) in its own
  transaction (booking/pg_statement's audit row, on the step-by-step path). Refusals
  change nothing.
- An Idempotency-Key is bound to the desk's request as sent (the slot is the service's
  choice): the same request under the same key answers the first booking again.
- A centre_staff account books only at its centres: a code of another centre's booking,
  or another centre in the body, is 403 `wrong_centre`.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec

from kontingent.booking import idempotency
from kontingent.booking.model import BookingView, Person, SecondDose, SlotTaken
from kontingent.booking.people import check_person, parse_date
from kontingent.booking.service import Booking, StaffClaims
from kontingent.centre import spot_model as model
from kontingent.centre import spot_repository as repo
from kontingent.centre.spot_model import Existing
from kontingent.errors import Conflict, InvalidInput, NotFound
from kontingent.i18n import pick
from kontingent.inventory.model import Vaccine, local_day
from kontingent.inventory.repository import Catalogue
from kontingent.staff.audit import Actor, Entry
from kontingent.staff.guards import require_centre
from kontingent.staff.model import Principal
from kontingent.verification.model import normalise_phone

if TYPE_CHECKING:
    from kontingent.services import Services

ON_SITE = "on_site"  # the booking's channel (bookings.channel)
ACTION = "second_dose.book"
TRIES = 5  # free slots tried in rank order when seats go meanwhile


@dataclass(frozen=True, slots=True)
class SpotRequest:
    """What the desk sends: a `code`, or the person's data with the first dose's."""

    code: str | None = None
    centre_id: int | None = None
    first_name: str | None = None
    last_name: str | None = None
    birth_date: str | None = None
    phone: str | None = None
    email: str | None = None
    first_dose_date: str | None = None
    vaccine: str | None = None
    language: str = "de"

    def fingerprint(self) -> str:
        canonical = msgspec.json.encode(asdict(self), order="sorted")
        return "spot:" + hashlib.sha256(canonical).hexdigest()[:59]


@dataclass(frozen=True, slots=True)
class SpotBooked:
    view: BookingView
    appointment_ids: list[int]  # one per person, in the order of `view.persons`


@dataclass(frozen=True, slots=True)
class _Plan:
    centre_id: int
    vaccine: Vaccine
    persons: list[dict[str, Any]]
    phone: str
    language: str
    first_day: date
    retire: tuple[int, tuple[int, ...]] | None
    way: str  # "code" or "person"
    first_code: str | None  # the booking that held the first dose, if any


class SpotDesk:
    def __init__(self, booking: Booking) -> None:
        self.booking = booking
        self.db = booking.db
        self.clock = booking.clock

    @classmethod
    def of(cls, services: Services) -> SpotDesk:
        return cls(services.booking)

    async def book(
        self,
        principal: Principal,
        request: SpotRequest,
        key: str | None,
        channel: str,
        ip: str | None,
    ) -> SpotBooked:
        fingerprint = request.fingerprint()
        entry = Entry(Actor.of(principal), ACTION, channel, ip=ip)
        if key is not None:
            scope = StaffClaims("", entry).scope
            replay = await idempotency.replay(self.db, scope, key, fingerprint)
            if replay is not None:
                return await self._answer(replay)
        catalogue = await self.booking.inventory.catalogue()
        if request.code:
            plan = await self._by_code(principal, request, catalogue)
        else:
            plan = await self._by_person(principal, request, catalogue)
        return await self._book(plan, catalogue, entry, key, fingerprint)

    async def _by_code(
        self, principal: Principal, request: SpotRequest, catalogue: Catalogue
    ) -> _Plan:
        code = Booking.identify_code(request.code or "")
        async with self.db.read() as conn:
            existing = await repo.by_code(conn, code)
        if existing is None:
            raise NotFound(f"no booking has the code {code}", code="unknown_code")
        require_centre(principal, existing.centre_id)
        if request.centre_id is not None and request.centre_id != existing.centre_id:
            require_centre(principal, request.centre_id)
            raise Conflict(
                f"booking {code} is at centre {existing.centre_id}, not {request.centre_id}: "
                "the second dose is booked where the first was given",
                code="other_centre",
            )
        vaccine = catalogue.vaccines[existing.vaccine_code]
        today = local_day(self.clock.now())
        due = model.due_by_code(existing, vaccine, today)
        await self._still_here(existing, due, catalogue)
        return _Plan(
            existing.centre_id, vaccine, [_fields(existing.persons[p]) for p in due],
            existing.phone, existing.language, today, (existing.booking_id, tuple(due)),
            "code", existing.code,
        )  # fmt: skip

    async def _still_here(self, existing: Existing, due: list[int], catalogue: Catalogue) -> None:
        """Refuse when a person of the code's booking is active in another booking by now
        (a second dose booked before): that booking decides, as for a person typed in."""
        async with self.db.read() as conn:
            for position in due:
                key = existing.persons[position].key
                found = await repo.active_of(conn, catalogue.campaign.id, key)
                if found is None or found[0].booking_id == existing.booking_id:
                    continue
                other, at = found
                vaccine = catalogue.vaccines[other.vaccine_code]
                raise model.existing_refusal(other, at, vaccine) or Conflict(
                    f"this person is active in booking {other.code}: book from there",
                    code="already_booked",
                )

    async def _by_person(
        self, principal: Principal, request: SpotRequest, catalogue: Catalogue
    ) -> _Plan:
        centre_id = _centre_of(request, catalogue)
        require_centre(principal, centre_id)
        vaccine = catalogue.vaccines.get(request.vaccine or "")
        if vaccine is None:
            known = ", ".join(sorted(catalogue.vaccines))
            raise InvalidInput(
                f"vaccine: name the first dose's vaccine, one of {known}",
                code="unknown_vaccine",
                field="vaccine",
            )
        today = local_day(self.clock.now())
        first_day, person = _person_of(request, today)
        model.window(vaccine, first_day, today)  # refuses early, before any lookup
        retire = None
        async with self.db.read() as conn:
            found = await repo.active_of(conn, catalogue.campaign.id, person.key)
        if found is not None:
            existing, position = found
            refusal = model.existing_refusal(
                existing, position, catalogue.vaccines[existing.vaccine_code]
            )
            if refusal is not None:
                raise refusal
            retire = (existing.booking_id, (position,))
        return _Plan(
            centre_id, vaccine, [_fields(person)], person.phone, pick(request.language),
            first_day, retire, "person", found[0].code if found else None,
        )  # fmt: skip

    async def _book(
        self, plan: _Plan, catalogue: Catalogue, entry: Entry, key: str | None, fingerprint: str
    ) -> SpotBooked:
        now, n = self.clock.now(), len(plan.persons)
        days = model.window(plan.vaccine, plan.first_day, local_day(now))
        until = catalogue.campaign.booking_until
        code = plan.vaccine.code
        async with self.db.read() as conn:
            free = await repo.free_in(conn, plan.centre_id, code, n, days, now, until)
            free = [
                f
                for f in free
                if not catalogue.closures.closed(plan.centre_id, local_day(f.starts_at))
            ]
            later = None if free else await repo.next_free_after(
                conn, plan.centre_id, code, n, days[1], now, until
            )  # fmt: skip
        name = catalogue.centres[plan.centre_id].name
        if not free:
            raise model.no_seat(plan.vaccine, name, days, later)
        claims = StaffClaims(plan.phone, _entry(entry, plan))
        second = SecondDose(plan.first_day, fingerprint, plan.retire)
        for slot in model.ranked(free, plan.vaccine, plan.first_day, now)[:TRIES]:
            try:
                view = await self.booking.book(
                    claims, plan.persons, [slot.slot_id] * n, key, ON_SITE,
                    language=plan.language, second_dose=second,
                )  # fmt: skip
            except SlotTaken:
                continue
            return await self._answer(view)
        raise Conflict(
            "the free seats of the interval were taken meanwhile: send the request again",
            code="slot_taken",
        )

    async def _answer(self, view: BookingView) -> SpotBooked:
        async with self.db.read() as conn:
            ids = await repo.appointment_ids(conn, view.code)
        return SpotBooked(view, [i for i, _ in ids])


def _entry(entry: Entry, plan: _Plan) -> Entry:
    details = {
        "by": plan.way,
        "centre_id": plan.centre_id,
        "first_booking": plan.first_code,
        "first_dose_date": plan.first_day.isoformat(),
        "persons": len(plan.persons),
    }
    return Entry(entry.actor, entry.action, entry.channel, ip=entry.ip, details=details)


def _centre_of(request: SpotRequest, catalogue: Catalogue) -> int:
    if request.centre_id is None:
        raise InvalidInput(
            "centre_id: name the centre the second dose is booked at", code="invalid_centre",
            field="centre_id",
        )  # fmt: skip
    if request.centre_id not in catalogue.centres:
        raise NotFound(f"no centre has the id {request.centre_id}", code="unknown_centre")
    return request.centre_id


def _person_of(request: SpotRequest, today: date) -> tuple[date, Person]:
    """The first-dose day and the person typed in, or InvalidInput naming every field to fix."""
    errors: dict[str, str] = {}
    first_day = parse_date((request.first_dose_date or "").strip(), "first_dose_date", errors)
    phone = normalise_phone(request.phone or "")
    if phone is None:
        errors["phone"] = (
            "a mobile number is missing" if not request.phone else "not a German mobile number"
        ) + ": the SMS goes to it; write it like 0170 1234567"
    raw = {
        "first_name": request.first_name, "last_name": request.last_name,
        "birth_date": request.birth_date, "email": request.email,
    }  # fmt: skip
    found: dict[str, str] = {}
    person = check_person(raw, 0, today, phone or "", found, address=False)
    errors.update({k.removeprefix("persons[0]."): v for k, v in found.items()})
    if errors or person is None or first_day is None:
        first = next(iter(errors.items()))
        raise InvalidInput(f"{first[0]}: {first[1]}", code="invalid_person", fields=errors)
    return first_day, person


def _fields(person: Person) -> dict[str, Any]:
    """A person as the booking use case takes it from the wire."""
    fields = asdict(person)
    fields["birth_date"] = person.birth_date.isoformat()
    return fields
