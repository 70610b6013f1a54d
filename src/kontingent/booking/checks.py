"""What a booking or a rebooking checks before it writes anything: the offer's size, that
its slots exist, are bookable now and fit the vaccine chosen, and that every person may take
its first dose there (booking/service.py and booking/rebooking.py both run these).

Invariants kept here:
- Pure checks: nothing is read or written; every refusal is InvalidInput (422) naming the
  field to fix and, where it helps, the reason and slot, except a slot on a day its centre is
  closed (a public holiday nobody opened, or a day an admin closed the centre): 409
  `centre_closed`, for bookings and rebookings.
- A person whose postcode spans districts passes when any of its districts allows the centre
  (the eligibility check asked which one the person lives in).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from kontingent.booking.model import Person, SlotInfo
from kontingent.eligibility.model import booking_refusal
from kontingent.errors import Conflict, InvalidInput
from kontingent.inventory.model import Centre, Vaccine, local_day
from kontingent.inventory.repository import Catalogue

MAX_SLOT_IDS = 8


def offer_size(slot_ids: Sequence[int]) -> None:
    if not slot_ids or len(slot_ids) > MAX_SLOT_IDS:
        raise InvalidInput(
            "slot_ids must hold the slot ids of one offer",
            code="invalid_offer",
            field="slot_ids",
        )


def known_slots(found: Mapping[int, SlotInfo], slot_ids: Sequence[int]) -> list[SlotInfo]:
    """The slots asked for, in the order asked; InvalidInput naming any unknown id."""
    missing = sorted(set(slot_ids) - set(found))
    if missing:
        raise InvalidInput(
            f"unknown slot ids {missing}: take them from an offer",
            code="unknown_slot",
            field="slot_ids",
        )
    return [found[i] for i in slot_ids]


def bookable(catalogue: Catalogue, slots: Sequence[SlotInfo], now: datetime) -> None:
    window = catalogue.campaign
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
    open_on_their_day(catalogue, slots)


def open_on_their_day(catalogue: Catalogue, slots: Sequence[SlotInfo]) -> None:
    """Refuse a slot on a day its centre is closed (a public holiday nobody opened, a day an
    admin closed it): offers never show one, but a client may post slot ids it found
    elsewhere."""
    for slot in slots:
        day = local_day(slot.starts_at)
        why = catalogue.closures.why(slot.centre_id, day)
        if why is not None:
            raise Conflict(
                f"centre {slot.centre_id} is closed on {day.isoformat()} ({why}): "
                "take a current offer",
                code="centre_closed",
                slot_id=slot.id,
                day=day.isoformat(),
            )


def eligible(
    catalogue: Catalogue,
    people: Sequence[Person],
    vaccine: Vaccine,
    centre: Centre,
    first_start: datetime,
    now: datetime,
) -> None:
    for i, person in enumerate(people):
        parts = catalogue.postcodes.get(person.postcode, ())
        if not parts:
            raise InvalidInput(
                f"postcode {person.postcode} is not in this campaign's region: check it",
                code="unknown_postcode",
                field=f"persons[{i}].postcode",
            )
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


def vaccine_chosen(booked: Vaccine, chosen: str | None) -> None:
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
