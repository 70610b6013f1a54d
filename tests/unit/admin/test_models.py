"""The dashboard's and statistics' arithmetic, without I/O: the minute series, the booking
rate and forecast, a cohort's population from age groups, and the population file's checks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.admin.dashboard_model import booking_rate, forecast, minute_series
from kontingent.admin.population import check, parse
from kontingent.admin.stats_model import AgeGroup, cohort_figures, latest_birth_date, population_in
from kontingent.eligibility.model import age_on
from kontingent.inventory.model import Vaccine, count_day_offers, day_offers

NOW = datetime(2026, 1, 12, 8, 30, 40, tzinfo=UTC)


def test_every_minute_of_the_hour_is_there_in_order() -> None:
    booked = [(NOW, "web", 3), (NOW - timedelta(minutes=2), "phone", 1), (NOW, "fax", 9),
              (NOW - timedelta(hours=2), "web", 5)]  # fmt: skip
    series = minute_series(NOW, booked)
    assert len(series) == 60 and series[-1].at == NOW.replace(second=0)
    assert [m.at for m in series] == sorted(m.at for m in series)
    assert series[-1].counts == {"web": 3, "phone": 0, "on_site": 0}
    assert series[-3].counts["phone"] == 1
    assert sum(sum(m.counts.values()) for m in series) == 4  # the old one and the fax left out


def test_the_rate_leaves_out_the_minute_just_begun_and_the_forecast_says_when() -> None:
    booked = [(NOW - timedelta(minutes=i), "web", 10) for i in range(1, 16)] + [(NOW, "web", 99)]
    rate = booking_rate(minute_series(NOW, booked))
    assert rate == 10
    found = forecast(NOW, free_pairs=500, due_pairs=100, rate=rate)
    assert found.gone_at == (NOW + timedelta(minutes=60)).replace(second=0)
    assert forecast(NOW, 500, 0, 0.0).gone_at is None  # nobody books: no guess
    assert forecast(NOW, 0, 0, 10).gone_at is None


def test_a_cohorts_population_only_from_groups_inside_its_ages() -> None:
    groups = [AgeGroup(0, 59, 500), AgeGroup(60, 79, 300), AgeGroup(80, None, 100)]
    assert population_in(groups, 80, None) == 100
    assert population_in(groups, 60, None) == 400
    assert population_in(groups, 60, 79) == 300
    assert population_in(groups, 70, 79) is None  # 60-79 straddles 70: no estimate
    assert cohort_figures(1, "80+", 80, None, 25, groups).share == 0.25
    assert cohort_figures(1, "70-79", 70, 79, 25, groups).note == "groups_do_not_align"
    assert cohort_figures(1, "80+", 80, None, 25, []).note == "none"


@given(st.dates(date(1900, 1, 1), date(2026, 12, 31)), st.dates(date(2020, 1, 1), date(2030, 1, 1)),
       st.integers(0, 110))  # fmt: skip
def test_the_birth_date_limit_selects_exactly_who_is_that_old(
    born: date, today: date, age: int
) -> None:
    assert (born <= latest_birth_date(today, age)) == (age_on(born, today) >= age)


BNT = Vaccine("BNT", "BioNTech", 2, 21, 42, None, None)


@given(st.dictionaries(st.integers(0, 80), st.integers(0, 5), max_size=40), st.integers(0, 80))
def test_offers_per_first_day_add_up_to_the_count_up_to_any_day(
    free: dict[int, int], until: int
) -> None:
    per_day = day_offers(free, BNT)
    assert sum(n for d, n in per_day.items() if d <= until) == count_day_offers(free, BNT, until)


def test_the_population_file_is_checked_whole() -> None:
    text = "\ufeffdistrict;age_from;age_to;people\nA;0;79;10\nA;80;;5\nB;0;79;7\nB;80;;1\n"
    found = parse(text)
    assert found["A"] == [AgeGroup(0, 79, 10), AgeGroup(80, None, 5)]
    assert check(found, {"A": 1, "B": 2}) == []
    assert check(found, {"A": 1, "B": 2, "C": 3}) == ["district 'C' is missing"]
    assert "overlap" in check(parse(text.replace("A;80;;5", "A;70;;5")), {"A": 1, "B": 2})[0]
    assert "other age groups" in check(parse(text.replace("B;80;;1", "B;81;;1")),
                                       {"A": 1, "B": 2})[0]  # fmt: skip
    with pytest.raises(ValueError, match="line 3: people"):
        parse(text.replace("A;80;;5", "A;80;;-5"))
    with pytest.raises(ValueError, match="line 2: age_to 3 is below age_from 9"):
        parse("district,age_from,age_to,people\nA,9,3,1\n")
