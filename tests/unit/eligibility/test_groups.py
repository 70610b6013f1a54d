"""The start page's groups and the vaccine advice, as pure rules."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from kontingent.clock import BERLIN
from kontingent.eligibility.groups import AgeGroup, advise, age_groups, next_groups
from kontingent.eligibility.model import Cohort
from kontingent.inventory.model import Vaccine

NOW = datetime(2021, 4, 1, 9, 0, tzinfo=BERLIN)
BNT = Vaccine("BNT", "BioNTech", 2, 21, 42, 16, None)
AZ = Vaccine("AZ", "AstraZeneca", 2, 63, 84, 18, 64)  # as once: up to 64 only
JNJ = Vaccine("JNJ", "Johnson", 1, 0, 0, 18, None)


def cohort(i: int, low: int, high: int | None, codes: set[str], opens: datetime) -> Cohort:
    return Cohort(i, f"c{i}", low, high, frozenset(codes), opens, "region")


def test_groups_partition_the_ages_and_apply_each_vaccines_own_limits() -> None:
    past, later = NOW - timedelta(days=1), NOW + timedelta(days=5)
    cohorts = [
        cohort(1, 80, None, {"BNT"}, past),
        cohort(2, 60, None, {"AZ", "JNJ"}, past),
        cohort(3, 70, 79, {"BNT"}, later),
    ]
    assert age_groups(cohorts, [BNT, AZ, JNJ], NOW) == [
        AgeGroup(80, None, ("BNT", "JNJ")),  # AZ stops at 64
        AgeGroup(65, 79, ("JNJ",)),
        AgeGroup(60, 64, ("AZ", "JNJ")),
    ]
    [upcoming] = next_groups(cohorts, [BNT, AZ, JNJ], NOW)
    assert (upcoming.min_age, upcoming.max_age, upcoming.vaccines) == (70, 79, ("BNT",))
    assert upcoming.opens_at == later
    assert age_groups(cohorts, [BNT, AZ, JNJ], NOW - timedelta(days=2)) == []


def test_a_later_group_whose_vaccines_fit_none_of_its_ages_is_not_announced() -> None:
    cohorts = [cohort(1, 70, 79, {"AZ"}, NOW + timedelta(days=1))]
    assert next_groups(cohorts, [AZ], NOW) == []


def test_the_advice_picks_the_course_complete_soonest_and_else_the_shortest() -> None:
    day = date(2021, 4, 1)
    advice = advise([BNT, AZ, JNJ], {"BNT": day, "AZ": day, "JNJ": day + timedelta(days=30)})
    assert advice is not None and advice.reason == "soonest"
    assert [c.vaccine.code for c in advice.choices] == ["BNT", "JNJ", "AZ"]
    assert advice.pick.complete == day + timedelta(days=21)
    nothing_free = advise([AZ, BNT], {"AZ": None, "BNT": None})
    assert nothing_free is not None and nothing_free.reason == "shortest"
    assert nothing_free.pick.vaccine is BNT
    assert advise([BNT], {"BNT": day}) is None  # nothing to choose
