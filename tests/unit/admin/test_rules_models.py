"""The admin's rules for vaccines, cohorts and the campaign, checked without I/O: a rule is
accepted exactly when it holds, and a refusal names the field to fix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from kontingent.admin.campaign_model import (
    Room,
    Window,
    changes_of,
    room_problems,
    share_problems,
    window_problems,
)
from kontingent.admin.cohorts_model import CohortRule
from kontingent.admin.cohorts_model import problems as cohort_problems
from kontingent.admin.vaccines_model import VaccineRule
from kontingent.admin.vaccines_model import problems as vaccine_problems
from kontingent.clock import BERLIN

AT = datetime(2021, 4, 6, 8, 0, tzinfo=BERLIN)
days = st.integers(-5, 400)
ages = st.none() | st.integers(-5, 130)


@given(days, days, st.none() | days, ages, ages)
def test_a_two_dose_vaccine_holds_exactly_when_ordered_and_in_range(
    low: int, high: int, best: int | None, young: int | None, old: int | None
) -> None:
    rule = VaccineRule("X", "X", 2, low, high, best, young, old)
    interval_ok = 0 <= low <= high <= 365 and (best is None or low <= best <= high)
    ages_ok = all(a is None or 0 <= a <= 120 for a in (young, old)) and (
        young is None or old is None or young <= old
    )
    assert (vaccine_problems(rule) == {}) is (interval_ok and ages_ok)


def test_a_one_dose_vaccine_has_no_interval() -> None:
    assert vaccine_problems(VaccineRule("J", "J", 1)) == {}
    assert "interval_min_days" in vaccine_problems(VaccineRule("J", "J", 1, 0, 0, 7))
    assert "doses" in vaccine_problems(VaccineRule("J", "J", 3))


def test_a_cohort_opens_on_a_whole_minute_with_known_vaccines() -> None:
    rule = CohortRule("80+", 80, None, frozenset({"BNT"}), AT)
    assert cohort_problems(rule, ["BNT", "AZ"]) == {}
    for change, field in [
        ({"opens_at": AT + timedelta(seconds=30)}, "opens_at"),
        ({"opens_at": AT.replace(tzinfo=None)}, "opens_at"),
        ({"vaccines": frozenset({"XYZ"})}, "vaccines"),
        ({"vaccines": frozenset()}, "vaccines"),
        ({"max_age": 70}, "max_age"),
        ({"district_rule": "state"}, "district_rule"),
        ({"name": " "}, "name"),
    ]:
        assert field in cohort_problems(rule.changed(change), ["BNT"]), change


def test_the_window_the_room_and_the_share() -> None:
    assert window_problems(Window(AT, AT + timedelta(days=1))) == {}
    assert "booking_until" in window_problems(Window(AT, AT))
    assert room_problems(Room("scheduled", AT, 50.0)) == {}
    assert "waiting_room.rate" in room_problems(Room("auto", None, 0.0))
    assert "waiting_room.mode" in room_problems(Room("sometimes", None, 1.0))
    assert share_problems(100) == {} and "phone_share_percent" in share_problems(-1)


def test_the_audit_sees_a_time_as_stored_whatever_zone_it_came_in() -> None:
    old, new = Window(AT, AT), Window(AT.astimezone(UTC), AT + timedelta(hours=1))
    assert changes_of(old, new, ("booking_from", "booking_until")) == {
        "booking_until": ["2021-04-06T06:00:00+00:00", "2021-04-06T07:00:00+00:00"]
    }
