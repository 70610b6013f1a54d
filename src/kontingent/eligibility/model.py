"""Who may book what, where and from when.

The age rule (one rule for eligibility, offers and the booking check):
- Every age limit, a cohort's and a vaccine's alike, is checked against the person's age on
  the Berlin calendar day of the FIRST dose. Someone who turns 80 on 9 February may book a
  first dose on 9 February or later, not on 8 February; someone who is 80 today may book any
  day. The second dose follows inside the vaccine's interval and is not checked again: a
  person who is 59 on the first-dose day of a vaccine given up to 59 completes the course.
- A birthday on 29 February counts as 1 March in common years.
- The eligibility answer, asked on any day, looks at every first-dose day the booking window
  allows (today or later, before the window's end): the person is eligible when an open
  cohort and one of its vaccines fit them on at least one of those days, and the answer
  carries those days per vaccine, which the offers shown to them respect.
- When nothing fits now, the answer names the opening minute of a scheduled cohort that will
  fit them inside the booking window, or says plainly that none is scheduled (never a date
  decades away: a birthday into a cohort counts only inside the booking window).

Other invariants kept here (pure functions, standard library only):
- A cohort is open only from its opening minute, read from an injected clock by the caller.
- The district rule decides the centres: the person's own district only, or the whole region.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from kontingent.inventory.model import Centre, Vaccine, local_day

OWN_DISTRICT = "own"
REGION_WIDE = "region"
ONE_DAY = timedelta(days=1)
# A birthday into an open cohort that falls after the booking window is worth naming when it
# is this close to the window's end; further out it is no promise the campaign can make.
BIRTHDAY_HORIZON = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Cohort:
    id: int
    name: str
    min_age: int
    max_age: int | None
    vaccines: frozenset[str]
    opens_at: datetime
    district_rule: str

    def fits_age(self, age: int) -> bool:
        return self.min_age <= age and (self.max_age is None or age <= self.max_age)

    def is_open(self, now: datetime) -> bool:
        return self.opens_at <= now


@dataclass(frozen=True, slots=True, order=True)
class DayRange:
    """Calendar days from `first` to `last`, both included."""

    first: date
    last: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class Decision:
    eligible: bool
    vaccines: list[str] = field(default_factory=list)
    centres: list[int] = field(default_factory=list)
    opens_at: datetime | None = None
    reasons: list[str] = field(default_factory=list)
    # Per vaccine: the first-dose days open to this person now (see the age rule above).
    first_dose_days: dict[str, tuple[DayRange, ...]] = field(default_factory=dict)
    # Not eligible yet only because the birthday into an open cohort lies after the window.
    fits_from: date | None = None

    def first_dose_allowed(self, vaccine_code: str, day: date) -> bool:
        return any(day in r for r in self.first_dose_days.get(vaccine_code, ()))


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a booking is refused: a stable `reason` code and words that say what to do."""

    reason: str
    message: str

    def __str__(self) -> str:
        return self.message


def age_on(birth_date: date, day: date) -> int:
    """Completed years of life on `day`; someone born on 29 February ages on 1 March."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def birthday_of_age(birth_date: date, age: int) -> date:
    """The first day on which a person born on `birth_date` is `age` years old."""
    try:
        return birth_date.replace(year=birth_date.year + age)
    except ValueError:  # 29 February in a common year
        return date(birth_date.year + age, 3, 1)


def vaccine_fits_age(vaccine: Vaccine, age: int) -> bool:
    return (vaccine.min_age is None or vaccine.min_age <= age) and (
        vaccine.max_age is None or age <= vaccine.max_age
    )


def window_days(booking_from: datetime, booking_until: datetime, today: date) -> DayRange | None:
    """The first-dose days the booking window leaves from `today` on (`booking_until` is the
    instant the window ends, exclusive); None when it has closed."""
    first = max(today, local_day(booking_from))
    last = local_day(booking_until - timedelta(microseconds=1))
    return DayRange(first, last) if first <= last else None


def age_days(birth_date: date, min_age: int, max_age: int | None) -> DayRange:
    """The days on which a person is at least `min_age` and at most `max_age` years old."""
    first = birthday_of_age(birth_date, min_age)
    last = date.max if max_age is None else birthday_of_age(birth_date, max_age + 1) - ONE_DAY
    return DayRange(first, last)


def first_dose_days(
    cohort: Cohort, vaccine: Vaccine, birth_date: date, within: DayRange
) -> DayRange | None:
    """The days of `within` on which this person fits both the cohort and the vaccine."""
    highs = [a for a in (cohort.max_age, vaccine.max_age) if a is not None]
    ages = age_days(
        birth_date, max(cohort.min_age, vaccine.min_age or 0), min(highs) if highs else None
    )
    first, last = max(ages.first, within.first), min(ages.last, within.last)
    return DayRange(first, last) if first <= last else None


def allowed_centres(
    rule: str, district_id: int, region_id: int, centres: Iterable[Centre]
) -> list[int]:
    if rule == REGION_WIDE:
        return [c.id for c in centres if c.region_id == region_id]
    return [c.id for c in centres if c.district_id == district_id]


def open_cohorts_for(
    cohorts: Sequence[Cohort], birth_date: date, day: date, now: datetime
) -> list[Cohort]:
    age = age_on(birth_date, day)
    return [c for c in cohorts if c.is_open(now) and c.fits_age(age)]


def _days_by_vaccine(
    cohorts: Iterable[Cohort],
    vaccines: Sequence[Vaccine],
    birth_date: date,
    within: DayRange,
) -> tuple[dict[str, tuple[DayRange, ...]], list[Cohort]]:
    """Per vaccine the first-dose days `cohorts` give this person inside `within`, and the
    cohorts that gave any."""
    by_code = {v.code: v for v in vaccines}
    days: dict[str, set[DayRange]] = {}
    giving: list[Cohort] = []
    for cohort in cohorts:
        found = False
        for code in sorted(cohort.vaccines & by_code.keys()):
            fitting = first_dose_days(cohort, by_code[code], birth_date, within)
            if fitting is not None:
                days.setdefault(code, set()).add(fitting)
                found = True
        if found:
            giving.append(cohort)
    return {code: tuple(sorted(ranges)) for code, ranges in sorted(days.items())}, giving


def _scheduled_opening(
    cohorts: Sequence[Cohort],
    vaccines: Sequence[Vaccine],
    birth_date: date,
    window: tuple[datetime, datetime],
    now: datetime,
) -> datetime | None:
    """The opening minute of the first scheduled cohort that will have first-dose days for
    this person inside the booking window as it stands."""
    openings = []
    for cohort in cohorts:
        if cohort.is_open(now):
            continue
        within = window_days(*window, local_day(cohort.opens_at))
        if within is not None and _days_by_vaccine([cohort], vaccines, birth_date, within)[0]:
            openings.append(cohort.opens_at)
    return min(openings, default=None)


def _later_birthday(
    cohorts: Sequence[Cohort], vaccines: Sequence[Vaccine], birth_date: date, today: date
) -> tuple[int, date] | None:
    """(age, birthday) of the next birthday that brings an open cohort in reach, if any."""
    ahead = DayRange(today, date.max)
    days, _ = _days_by_vaccine(cohorts, vaccines, birth_date, ahead)
    firsts = [r.first for ranges in days.values() for r in ranges]
    if not firsts:
        return None
    first = min(firsts)
    return age_on(birth_date, first), first


def decide(
    *,
    cohorts: Sequence[Cohort],
    vaccines: Sequence[Vaccine],
    centres: Sequence[Centre],
    birth_date: date,
    district_id: int,
    region_id: int,
    now: datetime,
    today: date,
    window: tuple[datetime, datetime],
) -> Decision:
    """What this person may book now (vaccines, centres and first-dose days), or when that
    opens. `window` is the campaign's booking window (from, until)."""
    age = age_on(birth_date, today)
    within = window_days(*window, today)
    open_now = [c for c in cohorts if c.is_open(now)]
    days: dict[str, tuple[DayRange, ...]] = {}
    giving: list[Cohort] = []
    if within is not None and birth_date <= today:
        days, giving = _days_by_vaccine(open_now, vaccines, birth_date, within)
    if days:
        centre_ids: set[int] = set()
        for c in giving:
            centre_ids.update(allowed_centres(c.district_rule, district_id, region_id, centres))
        return Decision(True, list(days), sorted(centre_ids), first_dose_days=days)
    if birth_date > today:
        return Decision(False, reasons=["the birth date lies in the future"])
    opens_at = _scheduled_opening(cohorts, vaccines, birth_date, window, now)
    if opens_at is not None:
        return Decision(False, opens_at=opens_at, reasons=[f"no cohort for age {age} is open yet"])
    if within is None:
        return Decision(False, reasons=["the booking window of this campaign has ended"])
    later = _later_birthday(open_now, vaccines, birth_date, today)
    if later is not None and later[1] <= within.last + BIRTHDAY_HORIZON:
        reason = (
            f"you can book from age {later[0]}, for a first dose on {later[1].isoformat()} or "
            f"later, and the booking window ends on {within.last.isoformat()}; a later window "
            "will be announced"
        )
        return Decision(False, reasons=[reason], fits_from=later[1])
    return Decision(
        False, reasons=[f"no cohort for age {age} is open or scheduled yet in this campaign"]
    )


def _too_young(
    cohorts: Sequence[Cohort], vaccine: Vaccine, birth_date: date, day: date
) -> Refusal | None:
    """A refusal naming the birthday from which these cohorts take this person, if any."""
    age = age_on(birth_date, day)
    later = [c.min_age for c in cohorts if c.min_age > age]
    if not later:
        return None
    birthday = birthday_of_age(birth_date, min(later))
    if birthday > day + BIRTHDAY_HORIZON:
        return None  # years away: what is open for them now is the better answer
    return Refusal(
        "too_young_on_that_day",
        f"on {day.isoformat()} you are {age}, and {vaccine.name} is open from age "
        f"{min(later)}; choose a first dose on {birthday.isoformat()} or later",
    )


def booking_refusal(
    *,
    cohorts: Sequence[Cohort],
    vaccine: Vaccine,
    centre: Centre,
    birth_date: date,
    day: date,
    district_id: int,
    region_id: int,
    now: datetime,
) -> Refusal | None:
    """Why this person may not take a first dose of `vaccine` at `centre` on `day`, or None
    if they may (the age rule in the module docstring)."""
    age = age_on(birth_date, day)
    open_now = [c for c in cohorts if c.is_open(now)]
    with_vaccine = [c for c in open_now if vaccine.code in c.vaccines]
    fitting = [c for c in with_vaccine if c.fits_age(age)]
    if not fitting:
        young = _too_young(with_vaccine, vaccine, birth_date, day)
        if young is not None:
            return young
        if any(c.fits_age(age) for c in open_now):
            return Refusal(
                "vaccine_not_in_cohort",
                f"the open cohort for age {age} does not include {vaccine.name}",
            )
        if any(c.max_age is not None and age > c.max_age for c in with_vaccine):
            return Refusal(
                "too_old_for_cohort",
                f"on {day.isoformat()} you are {age}, older than the open cohort for "
                f"{vaccine.name} takes",
            )
        return Refusal(
            "cohort_not_open", f"no cohort for age {age} on {day.isoformat()} is open yet"
        )
    if not vaccine_fits_age(vaccine, age):
        if vaccine.min_age is not None and age < vaccine.min_age:
            birthday = birthday_of_age(birth_date, vaccine.min_age).isoformat()
            return Refusal(
                "vaccine_age_limit",
                f"{vaccine.name} is given from age {vaccine.min_age} and on {day.isoformat()} "
                f"you are {age}; choose a first dose on {birthday} or later",
            )
        return Refusal(
            "vaccine_age_limit",
            f"{vaccine.name} is given up to age {vaccine.max_age} and on {day.isoformat()} "
            f"you are {age}; choose another vaccine",
        )
    for c in fitting:
        if centre.id in allowed_centres(c.district_rule, district_id, region_id, [centre]):
            return None
    return Refusal(
        "centre_outside_district",
        f"{centre.name} is outside your district; book at your district's centre",
    )
