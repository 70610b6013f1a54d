"""Who may book what, said once for everybody: the start page's open age groups with their
vaccines, the groups that open next, and which vaccine to pick when several fit.

Invariants kept here (pure functions, standard library only):
- The open groups partition the ages: each age falls into at most one group, and a group's
  vaccines are exactly those an open cohort gives that age with the vaccine's own age limits
  applied, which is what the eligibility answer gives a person of that age for a first dose
  today (eligibility/model.py, the age rule). Nothing is listed that eligibility would refuse.
- A group that opens later names its vaccines and its opening minute, with vaccine age limits
  applied the same way; a cohort none of whose vaccines fits any of its ages is not listed.
- The advice picks the vaccine that completes the course soonest: the earliest day with a
  free offer plus the interval to the second dose (none for a single dose). With no free
  offer anywhere, the shortest course wins. Ties go to fewer doses, then the name: the
  advice is the same for everybody who asks with the same free days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kontingent.eligibility.model import Cohort, vaccine_fits_age
from kontingent.inventory.model import Vaccine


@dataclass(frozen=True, slots=True)
class AgeGroup:
    min_age: int
    max_age: int | None  # None: and older
    vaccines: tuple[str, ...]  # codes, sorted

    def fits(self, age: int) -> bool:
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)


@dataclass(frozen=True, slots=True)
class NextGroup:
    min_age: int
    max_age: int | None
    vaccines: tuple[str, ...]
    opens_at: datetime


def _bounds(cohorts: Sequence[Cohort], vaccines: Sequence[Vaccine]) -> list[int]:
    """Every age at which what is open may change."""
    bounds = {0}
    for low, high in [(c.min_age, c.max_age) for c in cohorts] + [
        (v.min_age or 0, v.max_age) for v in vaccines
    ]:
        bounds.add(low)
        if high is not None:
            bounds.add(high + 1)
    return sorted(bounds)


def _codes_at(
    cohorts: Sequence[Cohort], by_code: Mapping[str, Vaccine], age: int
) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                code
                for c in cohorts
                if c.fits_age(age)
                for code in c.vaccines
                if code in by_code and vaccine_fits_age(by_code[code], age)
            }
        )
    )


def age_groups(
    cohorts: Sequence[Cohort], vaccines: Sequence[Vaccine], now: datetime
) -> list[AgeGroup]:
    """The ages that may book now, grouped by the vaccines open to them, oldest first."""
    open_now = [c for c in cohorts if c.is_open(now)]
    by_code = {v.code: v for v in vaccines}
    bounds = _bounds(open_now, vaccines)
    groups: list[AgeGroup] = []
    for i, low in enumerate(bounds):
        high = bounds[i + 1] - 1 if i + 1 < len(bounds) else None
        codes = _codes_at(open_now, by_code, low)
        if groups and groups[-1].vaccines == codes and groups[-1].max_age == low - 1:
            groups[-1] = AgeGroup(groups[-1].min_age, high, codes)
        elif codes:
            groups.append(AgeGroup(low, high, codes))
    return groups[::-1]


def next_groups(
    cohorts: Sequence[Cohort], vaccines: Sequence[Vaccine], now: datetime
) -> list[NextGroup]:
    """The cohorts still to open, soonest first, each with the vaccines it will give."""
    by_code = {v.code: v for v in vaccines}
    found = []
    for cohort in sorted((c for c in cohorts if not c.is_open(now)), key=lambda c: c.opens_at):
        codes = tuple(
            sorted(
                code
                for code in cohort.vaccines
                if code in by_code and _overlaps(cohort, by_code[code])
            )
        )
        if codes:
            found.append(NextGroup(cohort.min_age, cohort.max_age, codes, cohort.opens_at))
    return found


def _overlaps(cohort: Cohort, vaccine: Vaccine) -> bool:
    low = max(cohort.min_age, vaccine.min_age or 0)
    highs = [a for a in (cohort.max_age, vaccine.max_age) if a is not None]
    return not highs or low <= min(highs)


@dataclass(frozen=True, slots=True)
class Choice:
    vaccine: Vaccine
    first_free: date | None  # the earliest day with a free offer for this person
    complete: date | None  # the earliest day the course can be complete


@dataclass(frozen=True, slots=True)
class Advice:
    pick: Choice
    reason: str  # "soonest": complete soonest; "shortest": no free offer, shortest course
    choices: tuple[Choice, ...]  # every vaccine that fits, the pick first


def advise(vaccines: Sequence[Vaccine], first_free: Mapping[str, date | None]) -> Advice | None:
    """Which of several fitting vaccines to pick, and why; None when only one fits."""
    if len(vaccines) < 2:
        return None
    choices = [_choice(v, first_free.get(v.code)) for v in vaccines]
    if any(c.complete is not None for c in choices):
        reason = "soonest"
        ranked = sorted(
            choices, key=lambda c: (c.complete or date.max, c.vaccine.doses, c.vaccine.name)
        )
    else:
        reason = "shortest"
        ranked = sorted(
            choices, key=lambda c: (_course_days(c.vaccine), c.vaccine.doses, c.vaccine.name)
        )
    return Advice(ranked[0], reason, tuple(ranked))


def _course_days(vaccine: Vaccine) -> int:
    return vaccine.interval_min_days if vaccine.doses > 1 else 0


def _choice(vaccine: Vaccine, first_free: date | None) -> Choice:
    complete = None if first_free is None else first_free + timedelta(days=_course_days(vaccine))
    return Choice(vaccine, first_free, complete)
