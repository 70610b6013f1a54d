"""The pure rules of the second dose on the spot (centre/spot_model.py): the window, the
ranking of free slots, who is due by code, and what an existing booking decides."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from kontingent.booking.model import Person, SlotInfo, assign_second_doses
from kontingent.centre import spot_model as model
from kontingent.centre.spot_model import Existing, Free, Held
from kontingent.clock import BERLIN
from kontingent.errors import Conflict, InvalidInput
from kontingent.inventory.model import Vaccine

BNT = Vaccine("BNT", "BioNTech", 2, 21, 42, 16, None, interval_recommended_days=28)
JNJ = Vaccine("JNJ", "Janssen", 1, 0, 0, 18, None)
TODAY = date(2026, 1, 12)
ERIKA = Person("Erika", "Muster", date(1939, 5, 1), "", "", "", "", "+491701000000", None)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def existing(*held: Held, vaccine: str = "BNT", status: str = "booked") -> Existing:
    return Existing(1, "AAAA-BBBB-CCCC", status, 1, vaccine, "de", "+491701000000", [ERIKA],
                    list(held))  # fmt: skip


def test_the_window_runs_from_the_interval_or_today_to_its_end() -> None:
    assert model.window(BNT, TODAY - timedelta(days=3), TODAY) == (
        TODAY + timedelta(days=18), TODAY + timedelta(days=39),
    )  # fmt: skip
    assert model.window(BNT, TODAY - timedelta(days=30), TODAY) == (
        TODAY, TODAY + timedelta(days=12),
    )  # fmt: skip
    assert model.window(BNT, TODAY - timedelta(days=42), TODAY) == (TODAY, TODAY)
    for first, code in (
        (TODAY - timedelta(days=43), "outside_interval"),
        (TODAY + timedelta(days=1), "invalid_first_dose_date"),
    ):
        with pytest.raises(InvalidInput) as refused:
            model.window(BNT, first, TODAY)
        assert refused.value.code == code
    with pytest.raises(InvalidInput, match="one dose"):
        model.window(JNJ, TODAY, TODAY)


def test_slots_rank_by_the_recommended_day_then_the_time_of_day_now() -> None:
    first = TODAY - timedelta(days=3)  # recommended: first + 28 = TODAY + 25
    target = TODAY + timedelta(days=25)
    free = [
        Free(1, at(target + timedelta(days=2), 10)),
        Free(2, at(target, 8)),
        Free(3, at(target, 14)),
        Free(4, at(target - timedelta(days=1), 15)),
    ]
    now = at(TODAY, 15, 10)
    assert [f.slot_id for f in model.ranked(free, BNT, first, now)] == [3, 2, 4, 1]


def test_by_code_only_a_first_dose_given_today_without_a_second_is_due() -> None:
    first = Held(0, 1, "vaccinated", at(TODAY, 9))
    second = Held(0, 2, "booked", at(TODAY + timedelta(days=21), 9))
    with pytest.raises(Conflict) as held:
        model.due_by_code(existing(first, second), BNT, TODAY)
    assert held.value.code == "second_dose_held"
    freed = Held(0, 2, "cancelled", second.starts_at)
    assert model.due_by_code(existing(first, freed), BNT, TODAY) == [0]
    waiting = Held(0, 1, "checked_in", at(TODAY, 9))
    with pytest.raises(Conflict, match="record the vaccination first"):
        model.due_by_code(existing(waiting, freed), BNT, TODAY)
    with pytest.raises(Conflict) as cancelled:
        model.due_by_code(existing(first, freed, status="cancelled"), BNT, TODAY)
    assert cancelled.value.code == "booking_cancelled"


@pytest.mark.parametrize(
    ("held", "vaccine", "code"),
    [
        ([Held(0, 1, "booked", at(TODAY, 9)), Held(0, 2, "booked", at(TODAY, 9))], BNT,
         "second_dose_held"),
        ([Held(0, 1, "vaccinated", at(TODAY, 9)), Held(0, 2, "vaccinated", at(TODAY, 9))], BNT,
         "second_dose_held"),
        ([Held(0, 1, "booked", at(TODAY, 9)), Held(0, 2, "cancelled", at(TODAY, 9))], BNT,
         "first_dose_booked"),
        ([Held(0, 1, "vaccinated", at(TODAY, 9))], JNJ, "doses_complete"),
        ([Held(0, 1, "vaccinated", at(TODAY, 9)), Held(0, 2, "cancelled", at(TODAY, 9))], BNT,
         None),
        ([Held(0, 1, "no_show", at(TODAY, 9)), Held(0, 2, "cancelled", at(TODAY, 9))], BNT,
         None),
    ],
)  # fmt: skip
def test_an_existing_booking_decides(held: list[Held], vaccine: Vaccine, code: str | None) -> None:
    refusal = model.existing_refusal(existing(*held), 0, vaccine)
    assert (refusal.code if refusal else None) == code


def test_a_second_dose_takes_one_slot_inside_the_interval_for_everyone() -> None:
    first = TODAY

    def slot(i: int, days: int) -> SlotInfo:
        return SlotInfo(i, 1, "BNT", at(first + timedelta(days=days), 9), at(TODAY, 0))

    booked = assign_second_doses([slot(7, 21), slot(7, 21)], BNT, 2, first)
    assert [(a.slot_id, a.dose, a.person) for a in booked] == [(7, 2, 0), (7, 2, 1)]
    for slots, reason in (
        ([slot(7, 20)], "interval_outside_window"),
        ([slot(7, 43)], "interval_outside_window"),
        ([slot(7, 21), slot(8, 21)], "wrong_slot_count"),
    ):
        with pytest.raises(InvalidInput) as refused:
            assign_second_doses(slots, BNT, len(slots), first)
        assert refused.value.details["reason"] == reason
