"""The centre's day without I/O: batch numbers, which moves a lane may record, whom the
day-end no-show takes, counters that add up, the search, and the CSV German Excel reads."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.centre import model
from kontingent.centre.model import Visit
from kontingent.clock import BERLIN
from kontingent.errors import Conflict, InvalidInput

START = datetime(2026, 1, 12, 9, 20, tzinfo=BERLIN)
VISIT = Visit(1, 10, 1, START, 1, "ABCD-EFGH-JKMN", "Erika", "Müller", date(1939, 5, 1),
              "BNT", "booked")  # fmt: skip


def test_a_batch_number_is_stored_in_capitals_and_anything_else_is_refused() -> None:
    assert model.normalise_batch(" ex1234-a ") == "EX1234-A"
    for bad in ("", "ab", "EX 1234", "EX_1234", "Ä123", "X" * 21, "=1+2"):
        with pytest.raises(InvalidInput) as refused:
            model.normalise_batch(bad)
        assert refused.value.code == "invalid_batch"


def test_a_vaccination_only_on_its_day_and_only_once() -> None:
    model.vaccinate(VISIT, START.date())
    model.vaccinate(replace(VISIT, status="checked_in"), START.date())
    for status in ("vaccinated", "no_show", "cancelled"):
        with pytest.raises(Conflict) as refused:
            model.vaccinate(replace(VISIT, status=status), START.date())
        assert refused.value.code == f"already_{status}"
    with pytest.raises(Conflict, match="not today"):
        model.vaccinate(VISIT, START.date() + timedelta(days=1))


def test_a_no_show_only_for_a_booked_appointment_that_began() -> None:
    model.no_show(VISIT, START)
    with pytest.raises(Conflict) as early:
        model.no_show(VISIT, START - timedelta(seconds=1))
    assert early.value.code == "not_yet_due"
    with pytest.raises(Conflict) as came:
        model.no_show(replace(VISIT, status="checked_in"), START + timedelta(hours=1))
    assert came.value.code == "not_booked"
    later = replace(VISIT, appointment_id=2, starts_at=START + timedelta(hours=2))
    came_in = replace(VISIT, appointment_id=3, status="checked_in")
    assert model.missed([VISIT, later, came_in], START + timedelta(hours=1)) == [VISIT]


@given(st.lists(st.sampled_from([*model.STATUSES, "cancelled"]), max_size=30))
def test_the_counters_add_up(statuses: list[str]) -> None:
    visits = [replace(VISIT, appointment_id=i, status=s) for i, s in enumerate(statuses)]
    c = model.counters(visits)
    assert c.expected == sum(1 for s in statuses if s != "cancelled")
    assert c.expected == c.checked_in + c.vaccinated + c.no_show + c.to_come


def test_by_hour_and_the_search() -> None:
    later = replace(VISIT, appointment_id=2, starts_at=START + timedelta(hours=1),
                    last_name="Schmidt", code="KLMN-PQRS-TUVW")  # fmt: skip
    assert [(h, [v.appointment_id for v in vs]) for h, vs in model.by_hour([later, VISIT])] == [
        (9, [1]),
        (10, [2]),
    ]
    assert model.matches(VISIT, "müll") and model.matches(VISIT, "abcdefgh")
    assert model.matches(VISIT, "efgh-jk") and model.matches(VISIT, "  ")
    assert not model.matches(VISIT, "schmidt")


def test_the_csv_has_a_bom_semicolons_german_dates_and_no_formula_cells() -> None:
    formula = replace(VISIT, appointment_id=2, last_name="=HYPERLINK(1)", batch="EX1")
    text = model.csv_text([VISIT, formula], model.CSV_FIELDS)
    assert text.startswith("\ufeff") and "\r\n" in text
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0] == list(model.CSV_FIELDS)
    assert rows[1] == ["12.01.2026 09:20", "1", "ABCD-EFGH-JKMN", "Müller", "Erika",
                       "01.05.1939", "BNT", "booked", ""]  # fmt: skip
    assert rows[2][3] == "'=HYPERLINK(1)" and rows[2][8] == "EX1"
