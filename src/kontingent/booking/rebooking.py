"""Rebooking: move a booking to another offer for the same persons.

Invariants kept here:
- One transaction takes the new seats (the same conditional UPDATE as booking: a rebooking
  on the phone channel may take the seats kept for it, any other may not), frees the old
  ones, replaces the appointments and queues the new confirmation with the iCalendar CANCEL
  of the dates given up; when a new seat was taken meanwhile nothing changes and SlotTaken
  carries fresh offers.
- Only the difference between the old and the new seats moves, so an offer sharing a slot
  with the old one still fits; asking for the offer the booking already holds (a second
  click) changes nothing.
- The new offer passes the checks a new booking passes (booking/service.py), for the persons
  already in the booking; a cancelled booking does not move, nor one a centre has recorded an
  appointment of (checked in, vaccinated, no-show), checked under the booking's lock.
- Both centres' cached availability is dropped after the commit.
- A staff member's rebooking writes its audit row (old and new slots) in this transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.booking import checks, model
from kontingent.booking import repository as repo
from kontingent.booking.model import BookingView, SlotTaken
from kontingent.booking.pg_statement import PHONE
from kontingent.booking.service import (
    Booking,
    Plan,
    address,
    calendar_events,
)
from kontingent.errors import Conflict
from kontingent.inventory import repository as inventory_repo
from kontingent.notifications import repository as outbox
from kontingent.notifications.messages import moved_messages
from kontingent.staff import audit
from kontingent.staff.audit import Entry


async def rebook(
    booking: Booking,
    code_text: str,
    birth_date_text: str | None,
    slot_ids: Sequence[int],
    *,
    channel: str = "web",
    staff: Entry | None = None,
) -> BookingView:
    """`staff`: a staff member rebooks for a caller, instead of the birth date; its audit
    row is written in the rebooking's transaction."""
    code, born = booking.proven(code_text, birth_date_text, staff)
    async with booking.db.read() as conn:
        current = await booking.load(conn, code, born)
    if current.status != "booked":
        raise Conflict(
            "this booking is cancelled: make a new booking instead", code="booking_cancelled"
        )
    plan = await _plan(booking, current, slot_ids)
    if sorted(a.slot_id for a in current.appointments) == sorted(slot_ids):
        return current
    try:
        view, old = await booking.db.run_write(
            partial(
                _move, booking, plan=plan, code=code, before=current, channel=channel, staff=staff
            )
        )
    except SlotTaken as exc:
        await booking.attach_fresh_offers(exc, plan, phone=channel == PHONE)
        raise
    booking.inventory.slots_changed(plan.centre.id, plan.vaccine.code)
    booking.inventory.slots_changed(*old)
    return view


async def _plan(booking: Booking, current: BookingView, slot_ids: Sequence[int]) -> Plan:
    """Check the new offer as booking does, for the persons already in the booking."""
    checks.offer_size(slot_ids)
    catalogue = await booking.inventory.catalogue()
    async with booking.db.read() as conn:
        found = await inventory_repo.slot_infos(conn, slot_ids)
    slots = checks.known_slots(found, slot_ids)
    vaccine = catalogue.vaccines[slots[0].vaccine_code]
    booked = model.assign_appointments(slots, vaccine, len(current.persons))
    centre = catalogue.centres[slots[0].centre_id]
    now = booking.clock.now()
    checks.bookable(catalogue, slots, now)
    checks.eligible(catalogue, current.persons, vaccine, centre, booked[0].starts_at, now)
    return Plan(catalogue, centre, vaccine, list(current.persons), booked)


async def _move(
    booking: Booking,
    conn: AsyncConnection,
    *,
    plan: Plan,
    code: str,
    before: BookingView,
    channel: str,
    staff: Entry | None = None,
) -> tuple[BookingView, tuple[int, str]]:
    """The rebooking transaction; the new view and the (centre, vaccine) it left."""
    now = booking.clock.now()
    row = await repo.lock_booked(conn, code)
    if row is None:
        raise Conflict(
            "this booking was cancelled meanwhile: make a new booking instead",
            code="booking_cancelled",
        )
    if await repo.recorded_at_centre(conn, row.id):
        # Checked in, vaccinated or missed: a move would book a first dose beside the one
        # the centre recorded. The centre books the second dose on the spot.
        raise Conflict(
            "this booking is under way at the centre (checked in, vaccinated or marked as "
            "missed) and can no longer be moved: the centre or the hotline books the second "
            "dose",
            code="booking_under_way",
        )
    held = await repo.booked_seats(conn, row.id)
    wanted = model.seats_per_slot([a.slot_id for a in plan.booked])
    # Only the difference moves, so an offer sharing a slot with the old one still fits.
    take = {s: n - held.get(s, 0) for s, n in wanted.items() if n > held.get(s, 0)}
    give = {s: n - wanted.get(s, 0) for s, n in held.items() if n > wanted.get(s, 0)}
    until = plan.catalogue.campaign.booking_until
    if take and not await repo.take_seats(conn, take, now, until, phone=channel == PHONE):
        raise SlotTaken(
            "an appointment of this offer was taken meanwhile: choose one of the fresh "
            "offers; your booking is unchanged",
            offers=[],
        )
    await repo.free_seats(conn, give)
    if staff is not None:
        details = {**staff.details, "from": sorted(held), "to": sorted(wanted)}
        await audit.record(conn, replace(staff, target=code, details=details), now)
    await repo.replace_appointments(conn, row.id, plan.booked)
    await repo.move_booking(conn, row.id, plan.centre.id, plan.vaccine.code)
    messages = booking.confirmations(plan, code, row.phone, before.language, rebooked=True)
    await outbox.enqueue(conn, messages + _moved(plan, code, before), now, booking.cap)
    view = BookingView(
        code,
        "booked",
        plan.centre.id,
        plan.vaccine.code,
        plan.people,
        plan.booked,
        before.language,
        before.channel,
    )
    return view, (row.centre_id, row.vaccine_code)


def _moved(plan: Plan, code: str, before: BookingView) -> list[Any]:
    """The iCalendar CANCEL of the appointments a rebooking gave up (kept ones stay)."""
    kept = {(a.slot_id, a.person) for a in plan.booked}
    gone = [a for a in before.appointments if (a.slot_id, a.person) not in kept]
    centre = plan.catalogue.centres[before.centre_id]
    vaccine = plan.catalogue.vaccines[before.vaccine]
    return moved_messages(
        code=code,
        emails=[p.email for p in before.persons if p.email],
        location=f"{centre.name}, {address(centre)}",
        appointments=calendar_events(centre, before.persons, gone),
        vaccine=vaccine.name,
        doses=vaccine.doses,
        lang=before.language,
    )
