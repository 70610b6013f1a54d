"""The statistics as plain values: press figures, and each cohort's share of its population.

Invariants kept here:
- Pure: standard library only, no I/O; "today" is given.
- A cohort's share is given only when the imported age groups cover its age range exactly
  (no group straddles one of its limits) and that population is more than 0; otherwise the
  share is None with the reason, never an estimate: the figures go to the press.
- Ages are completed years on `today` (eligibility/model.py `age_on`): the birth-date limits
  below select exactly the people `Cohort.fits_age` admits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the centres' day figures, read by the service (stats.py)
    from kontingent.centre.repository import DayFigures

CHANNELS = ("web", "phone", "on_site")


@dataclass(frozen=True, slots=True)
class AgeGroup:
    age_from: int
    age_to: int | None  # None: and older
    people: int


@dataclass(frozen=True, slots=True)
class CentreFigures:
    centre_id: int
    name: str
    bookings: int
    appointments_booked: int
    appointments_free: int


@dataclass(frozen=True, slots=True)
class CohortFigures:
    cohort_id: int
    name: str
    min_age: int
    max_age: int | None
    persons: int  # persons with an appointment whose age is in the cohort's range
    population: int | None
    share: float | None  # persons / population, 0..1 (and past 1 if the import is too low)
    note: str | None = None  # why there is no share


@dataclass(frozen=True, slots=True)
class Figures:
    bookings: int
    persons: int
    appointments_booked: int
    first_doses: int
    second_doses: int
    appointments_free: int
    by_channel: dict[str, int]
    by_centre: list[CentreFigures]
    cohorts: list[CohortFigures]
    population_imported: bool
    by_vaccine: dict[str, int] = field(default_factory=dict)  # appointments booked
    # The last VACCINATED_DAYS days up to today, every centre together (centre/ records them).
    vaccinated_by_day: list[VaccinatedDay] = field(default_factory=list)


VACCINATED_DAYS = 14


@dataclass(frozen=True, slots=True)
class VaccinatedDay:
    day: date
    first: int  # people given their first dose (or their only one) that day
    second: int
    due: int  # appointments not cancelled that day
    no_show: int

    @property
    def no_show_rate(self) -> float:
        return self.no_show / self.due if self.due else 0.0


def vaccinated_by_day(rows: Sequence[DayFigures]) -> list[VaccinatedDay]:
    """The centres' day figures summed per day, in day order."""
    days: dict[date, list[int]] = {}
    for r in rows:
        sums = days.setdefault(r.day, [0, 0, 0, 0])
        sums[0] += r.vaccinated.get(1, 0)
        sums[1] += r.vaccinated.get(2, 0)
        sums[2] += r.due
        sums[3] += r.no_show
    return [VaccinatedDay(d, *days[d]) for d in sorted(days)]


def latest_birth_date(today: date, age: int) -> date:
    """The last birth date of someone at least `age` years old on `today`."""
    try:
        return today.replace(year=today.year - age)
    except ValueError:  # today is 29 February: who was born on 28 February is that old
        return date(today.year - age, 2, 28)


def population_in(groups: Sequence[AgeGroup], min_age: int, max_age: int | None) -> int | None:
    """People aged `min_age`..`max_age` (None: no upper limit) in the groups, or None where a
    group straddles a limit (the import cannot say how many of it are inside)."""
    total = 0
    for g in groups:
        upper = g.age_to if g.age_to is not None else 10**6
        limit = max_age if max_age is not None else 10**6
        if upper < min_age or g.age_from > limit:
            continue
        if g.age_from < min_age or upper > limit:
            return None
        total += g.people
    return total


def cohort_figures(
    cohort_id: int,
    name: str,
    min_age: int,
    max_age: int | None,
    persons: int,
    groups: Sequence[AgeGroup],
) -> CohortFigures:
    if not groups:
        return CohortFigures(cohort_id, name, min_age, max_age, persons, None, None, "none")
    population = population_in(groups, min_age, max_age)
    if population is None:
        return CohortFigures(
            cohort_id, name, min_age, max_age, persons, None, None, "groups_do_not_align"
        )
    if population == 0:
        return CohortFigures(cohort_id, name, min_age, max_age, persons, 0, None, "empty")
    share = persons / population
    return CohortFigures(cohort_id, name, min_age, max_age, persons, population, share)


def merge_groups(rows: Sequence[AgeGroup]) -> list[AgeGroup]:
    """The districts' groups added up per age range (districts share the ranges the import
    checked)."""
    summed: dict[tuple[int, int | None], int] = {}
    for g in rows:
        summed[(g.age_from, g.age_to)] = summed.get((g.age_from, g.age_to), 0) + g.people
    return [AgeGroup(a, b, n) for (a, b), n in sorted(summed.items())]
