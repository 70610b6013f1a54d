"""Who may book what, where and from when.

Invariants kept here (pure functions, standard library only):
- Age counts on the day of the (first) appointment, not the day of asking: someone who turns 80
  before their appointment may book it.
- A cohort is open only from its opening minute, read from an injected clock by the caller.
- The district rule decides the centres: the person's own district only, or the whole region.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from kontingent.clock import BERLIN
from kontingent.inventory.model import Centre, Vaccine

OWN_DISTRICT = "own"
REGION_WIDE = "region"


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


@dataclass(frozen=True, slots=True)
class Decision:
    eligible: bool
    vaccines: list[str] = field(default_factory=list)
    centres: list[int] = field(default_factory=list)
    opens_at: datetime | None = None
    reasons: list[str] = field(default_factory=list)


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


def _next_opening(cohorts: Sequence[Cohort], birth_date: date, now: datetime) -> datetime | None:
    """When the person's earliest chance comes: a cohort opening, or a birthday into one."""
    candidates: list[datetime] = []
    for c in cohorts:
        turns = birthday_of_age(birth_date, c.min_age)
        if c.max_age is not None and age_on(birth_date, max(turns, now.date())) > c.max_age:
            continue
        # The cohort's opening minute in Berlin wall time: opens_at may come back in UTC, and
        # the birthday may lie on the other side of a DST change.
        minute = c.opens_at.astimezone(BERLIN).time()
        opening = max(c.opens_at, datetime.combine(turns, minute, BERLIN))
        if opening > now:
            candidates.append(opening)
    return min(candidates, default=None)


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
) -> Decision:
    """Eligibility today: the vaccines and centres open to this person, or when they open."""
    age = age_on(birth_date, today)
    open_now = open_cohorts_for(cohorts, birth_date, today, now)
    by_code = {v.code: v for v in vaccines}
    codes = sorted(
        {
            code
            for c in open_now
            for code in c.vaccines
            if code in by_code and vaccine_fits_age(by_code[code], age)
        }
    )
    if codes:
        centre_ids: set[int] = set()
        for c in open_now:
            centre_ids.update(allowed_centres(c.district_rule, district_id, region_id, centres))
        return Decision(True, codes, sorted(centre_ids))
    opens_at = _next_opening(cohorts, birth_date, now)
    reason = (
        f"no cohort for age {age} is open yet"
        if opens_at is not None
        else f"no cohort for age {age} is planned in this campaign"
    )
    return Decision(False, opens_at=opens_at, reasons=[reason])


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
) -> str | None:
    """Why this person may not take `vaccine` at `centre` on `day`, or None if they may."""
    age = age_on(birth_date, day)
    if not vaccine_fits_age(vaccine, age):
        return f"{vaccine.name} is not given at age {age}"
    fitting = [c for c in open_cohorts_for(cohorts, birth_date, day, now)]
    if not fitting:
        return f"no cohort for age {age} on {day.isoformat()} is open yet"
    with_vaccine = [c for c in fitting if vaccine.code in c.vaccines]
    if not with_vaccine:
        return f"the open cohort for age {age} does not include {vaccine.name}"
    for c in with_vaccine:
        if centre.id in allowed_centres(c.district_rule, district_id, region_id, [centre]):
            return None
    return f"{centre.name} is outside your district; book at your district's centre"
