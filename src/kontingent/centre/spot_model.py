"""The second dose on the spot, as pure rules: who gets one, inside which days, in which
slot (centre/spot.py runs them; no I/O here).

Invariants kept here:
- A second dose falls inside the vaccine's interval counted from the day the first dose
  was given: [first day + interval_min_days, first day + interval_max_days], and never
  before tomorrow's first free slot (`window`). A series whose window has passed is
  refused (`outside_interval`): the person needs a new first dose, not a late second.
- Slots are ranked by the distance of their day from the recommended interval (the
  offers' own target), then by the distance of their time of day from now (the person is
  here at this time of day, so it likely suits them), then by time.
- Booked by code: the persons of the booking whose first dose was recorded today as given
  (`vaccinated`) and who hold no open second appointment. Checked in but not yet
  vaccinated is refused: a second appointment without a first dose would hold a seat for
  nothing.
- A person's existing booking decides (`existing_refusal`): an open second appointment
  (booked, checked in or given) refuses with `second_dose_held`; an open first-dose
  appointment (booked or checked in: not given yet) refuses with `first_dose_booked`
  (cancel it or record it first); a one-dose vaccine given refuses with `doses_complete`.
  Anything else (a first dose given, its second cancelled or freed after a no-show) is a
  single first dose: that booking's person is retired in the new booking's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kontingent.booking.model import Person
from kontingent.clock import BERLIN
from kontingent.errors import Conflict, InvalidInput
from kontingent.inventory.model import Vaccine, local_day

OPEN = frozenset({"booked", "checked_in", "vaccinated"})  # a dose held or given
NOT_GIVEN = frozenset({"booked", "checked_in"})


@dataclass(frozen=True, slots=True)
class Held:
    """One appointment of an existing booking."""

    person: int
    dose: int
    status: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class Existing:
    """A booking as the desk sees it: who, what, where, and each appointment's state."""

    booking_id: int
    code: str
    status: str
    centre_id: int
    vaccine_code: str
    language: str
    phone: str
    persons: list[Person]
    held: list[Held]

    def of_person(self, position: int) -> list[Held]:
        return [h for h in self.held if h.person == position]


@dataclass(frozen=True, slots=True)
class Free:
    """A slot with a public seat free for every person asked for."""

    slot_id: int
    starts_at: datetime


def _day(at: datetime) -> str:
    return local_day(at).isoformat()


def due_by_code(existing: Existing, vaccine: Vaccine, today: date) -> list[int]:
    """The positions of the persons of a booking that get a second dose now, or the refusal."""
    if existing.status != "booked":
        raise Conflict(
            f"booking {existing.code} is cancelled: book the second dose with the person's "
            "data and the first-dose date instead",
            code="booking_cancelled",
        )
    if vaccine.doses != 2:
        raise Conflict(
            f"{vaccine.name} has one dose: booking {existing.code} needs no second",
            code="doses_complete",
        )
    firsts = [h for h in existing.held if h.dose == 1 and local_day(h.starts_at) == today]
    given = [h.person for h in firsts if h.status == "vaccinated"]
    if not given:
        waiting = any(h.status in NOT_GIVEN for h in firsts)
        raise Conflict(
            f"booking {existing.code} has no first dose recorded as given today"
            + (": record the vaccination first" if waiting else ""),
            code="first_dose_not_given",
        )
    due = [p for p in given if not _second_held(existing.of_person(p))]
    if not due:
        held = [h for h in existing.held if h.dose == 2 and h.status in OPEN]
        raise Conflict(
            f"booking {existing.code} holds its second appointment already, on "
            f"{_day(held[0].starts_at)}: nothing to book",
            code="second_dose_held",
            day=_day(held[0].starts_at),
        )
    return due


def _second_held(held: Sequence[Held]) -> bool:
    return any(h.dose == 2 and h.status in OPEN for h in held)


def existing_refusal(existing: Existing, position: int, vaccine: Vaccine) -> Conflict | None:
    """Why a person who is already booked (at `position` of `existing`) cannot get a new
    second dose, or None: their booking is a single first dose (see the docstring)."""
    held = existing.of_person(position)
    second = [h for h in held if h.dose == 2 and h.status in OPEN]
    if second:
        return Conflict(
            f"this person holds a second appointment already (booking {existing.code}, "
            f"{_day(second[0].starts_at)}): nothing to book",
            code="second_dose_held",
            code_held=existing.code,
            day=_day(second[0].starts_at),
        )
    pending = [h for h in held if h.status in NOT_GIVEN]
    if pending:
        return Conflict(
            f"this person holds a first-dose appointment (booking {existing.code}, "
            f"{_day(pending[0].starts_at)}): record it as given or cancel it first",
            code="first_dose_booked",
            code_held=existing.code,
            day=_day(pending[0].starts_at),
        )
    if vaccine.doses == 1 and any(h.status == "vaccinated" for h in held):
        return Conflict(
            f"this person's vaccination is complete ({vaccine.name}, booking "
            f"{existing.code}): there is no second dose to book",
            code="doses_complete",
            code_held=existing.code,
        )
    return None


def window(vaccine: Vaccine, first_day: date, today: date) -> tuple[date, date]:
    """The days a second dose may fall on now, or the refusal (422) saying why none."""
    if vaccine.doses != 2:
        raise InvalidInput(
            f"{vaccine.name} has one dose: there is no second dose to book",
            code="single_dose_vaccine",
            field="vaccine",
        )
    if first_day > today:
        raise InvalidInput(
            "the first-dose date lies in the future: check it", code="invalid_first_dose_date",
            field="first_dose_date",
        )  # fmt: skip
    lo = first_day + timedelta(days=vaccine.interval_min_days)
    hi = first_day + timedelta(days=vaccine.interval_max_days)
    if hi < today:
        raise InvalidInput(
            f"outside the interval: a second dose of {vaccine.name} was due by "
            f"{hi.isoformat()} ({vaccine.interval_max_days} days after the first, "
            f"{first_day.isoformat()}); the person needs a new series",
            code="outside_interval",
            field="first_dose_date",
            until=hi.isoformat(),
        )
    return max(lo, today), hi


def ranked(free: Sequence[Free], vaccine: Vaccine, first_day: date, now: datetime) -> list[Free]:
    """The free slots, best first (see the docstring)."""
    target = first_day + timedelta(days=vaccine.recommended_days)
    here = now.astimezone(BERLIN)
    minute = here.hour * 60 + here.minute

    def rank(f: Free) -> tuple[int, int, datetime]:
        at = f.starts_at.astimezone(BERLIN)
        return (abs((at.date() - target).days), abs(at.hour * 60 + at.minute - minute), at)

    return sorted(free, key=rank)


def no_seat(
    vaccine: Vaccine, centre_name: str, days: tuple[date, date], later: datetime | None
) -> Conflict:
    """No free seat inside the window: say so, and the nearest later free day if any."""
    lo, hi = days
    tail = (
        f"; the nearest later free day is {_day(later)}, outside the interval"
        if later is not None
        else "; there is none later either"
    )
    return Conflict(
        f"no free seat for a second dose of {vaccine.name} at {centre_name} between "
        f"{lo.isoformat()} and {hi.isoformat()}{tail}",
        code="no_second_dose_seat",
        window_from=lo.isoformat(),
        window_until=hi.isoformat(),
        next_free=None if later is None else _day(later),
    )
