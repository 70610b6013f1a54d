"""Which appointments a check-in on a day takes: the booking's of that Berlin day, for all its
persons; cancelled, wrong-day and no-show bookings refused with their own codes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kontingent.checkin.model import Arrival, Booked, due_on
from kontingent.clock import BERLIN
from kontingent.errors import Conflict

DAY = date(2026, 3, 2)
MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=BERLIN)
LATER = datetime(2026, 3, 23, 9, 0, tzinfo=BERLIN)


def arrival(i: int, at: datetime, status: str = "booked", dose: int = 1) -> Arrival:
    return Arrival(i, dose, status, at, "Erika", f"Mustermann{i}")


def booked(*arrivals: Arrival, status: str = "booked") -> Booked:
    return Booked("K7QM-3XPA-9RTD", status, 1, list(arrivals))


def refusal(b: Booked, day: date = DAY) -> Conflict:
    with pytest.raises(Conflict) as caught:
        due_on(b, day)
    return caught.value


def test_the_days_appointments_of_every_person_are_taken() -> None:
    b = booked(
        arrival(1, MORNING),
        arrival(2, MORNING),
        arrival(3, LATER, dose=2),
        arrival(4, LATER, dose=2),
    )
    assert [a.appointment_id for a in due_on(b, DAY)] == [1, 2]
    assert [a.appointment_id for a in due_on(b, LATER.date())] == [3, 4]


def test_the_day_is_berlins_not_utcs() -> None:
    """00:30 in Berlin on 2 March is still 1 March in UTC."""
    just_after_midnight = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    assert [a.appointment_id for a in due_on(booked(arrival(1, just_after_midnight)), DAY)] == [1]
    assert refusal(booked(arrival(1, just_after_midnight)), date(2026, 3, 1)).code == "wrong_day"


def test_checked_in_and_vaccinated_are_taken_again_harmlessly() -> None:
    b = booked(arrival(1, MORNING, "checked_in"), arrival(2, MORNING, "vaccinated"))
    assert [a.status for a in due_on(b, DAY)] == ["checked_in", "vaccinated"]


def test_a_cancelled_booking_is_refused_before_its_days_are_looked_at() -> None:
    b = booked(arrival(1, MORNING, "cancelled"), status="cancelled")
    assert refusal(b).code == "booking_cancelled"


def test_the_wrong_day_names_the_days_the_booking_holds() -> None:
    b = booked(arrival(1, MORNING, "cancelled"), arrival(2, LATER, dose=2))
    error = refusal(b)
    assert error.code == "wrong_day" and error.status == 409
    assert error.message.endswith("its appointments are on 2026-03-23")


def test_a_no_show_of_the_day_is_refused() -> None:
    b = booked(arrival(1, MORNING, "no_show"), arrival(2, MORNING))
    assert refusal(b).code == "marked_no_show"
