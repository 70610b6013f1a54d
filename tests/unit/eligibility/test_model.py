"""Who may book what, where and from when (kontingent.eligibility.model).

The rules under test: every age limit counts on the day of the first dose, for the booking
check and the eligibility answer alike (which names the first-dose days open to the person);
a cohort opens at its minute, read from the clock the caller passes; nobody is told a date
beyond the booking window; the district rule picks the person's own district's centre or the
whole region.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kontingent.eligibility.model import (
    OWN_DISTRICT,
    REGION_WIDE,
    Cohort,
    DayRange,
    Decision,
    age_on,
    allowed_centres,
    birthday_of_age,
    booking_refusal,
    decide,
    vaccine_fits_age,
)
from kontingent.inventory.model import Centre, Vaccine
from tests.unit.properties import examples

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 1, 12, 9, 0, tzinfo=TZ)
TODAY = NOW.date()

BNT = Vaccine("BNT", "BioNTech", 2, 21, 42, 16, None)
MOD = Vaccine("MOD", "Moderna", 2, 28, 42, 18, None)
AZ = Vaccine("AZ", "AstraZeneca", 2, 63, 84, 18, None)
VACCINES = [BNT, MOD, AZ]

OVER_80_OPENED = datetime(2026, 1, 8, 8, 0, tzinfo=TZ)
OVER_80 = Cohort(
    1, "80 und älter", 80, None, frozenset({"BNT", "MOD"}), OVER_80_OPENED, OWN_DISTRICT
)
AZ_SATURDAY = datetime(2026, 1, 17, 8, 0, tzinfo=TZ)
AZ_60_79 = Cohort(2, "AZ-Aktion 60-79", 60, 79, frozenset({"AZ"}), AZ_SATURDAY, REGION_WIDE)
COHORTS = [OVER_80, AZ_60_79]


def centre(centre_id: int, name: str, district_id: int, region_id: int) -> Centre:
    return Centre(centre_id, name, district_id, name, region_id, "Straße 1", "00000", name, 0, 0)


BIELEFELD = centre(1, "Impfzentrum Bielefeld", district_id=1, region_id=1)
GUETERSLOH = centre(2, "Impfzentrum Gütersloh", district_id=2, region_id=1)
KOELN = centre(3, "Impfzentrum Köln", district_id=9, region_id=2)
CENTRES = [BIELEFELD, GUETERSLOH, KOELN]


WINDOW_FROM = NOW - timedelta(days=1)
WINDOW_UNTIL = datetime(2026, 3, 9, 0, 0, tzinfo=TZ)  # first doses up to 8 March
LAST_DAY = date(2026, 3, 8)


def decide_for(
    birth_date: date,
    now: datetime = NOW,
    cohorts: list[Cohort] = COHORTS,
    vaccines: list[Vaccine] = VACCINES,
    until: datetime = WINDOW_UNTIL,
) -> Decision:
    return decide(
        cohorts=cohorts,
        vaccines=vaccines,
        centres=CENTRES,
        birth_date=birth_date,
        district_id=1,
        region_id=1,
        now=now,
        today=now.astimezone(TZ).date(),
        window=(WINDOW_FROM, until),
    )


def refusal_for(
    birth_date: date,
    day: date,
    *,
    vaccine: Vaccine = BNT,
    at: Centre = BIELEFELD,
    now: datetime = NOW,
    cohorts: list[Cohort] = COHORTS,
) -> str | None:
    refusal = booking_refusal(
        cohorts=cohorts,
        vaccine=vaccine,
        centre=at,
        birth_date=birth_date,
        day=day,
        district_id=1,
        region_id=1,
        now=now,
    )
    return None if refusal is None else str(refusal)


# --- age -----------------------------------------------------------------------------------


def test_age_grows_on_the_birthday_not_the_day_before() -> None:
    born = date(1946, 2, 1)
    assert age_on(born, date(2026, 1, 31)) == 79
    assert age_on(born, date(2026, 2, 1)) == 80


def test_someone_born_on_29_february_ages_on_1_march_in_common_years() -> None:
    born = date(1944, 2, 29)
    assert age_on(born, date(2025, 2, 28)) == 80
    assert age_on(born, date(2025, 3, 1)) == 81
    assert birthday_of_age(born, 81) == date(2025, 3, 1)


def test_someone_born_on_29_february_ages_on_29_february_in_leap_years() -> None:
    born = date(1944, 2, 29)
    assert age_on(born, date(2024, 2, 28)) == 79
    assert age_on(born, date(2024, 2, 29)) == 80
    assert birthday_of_age(born, 80) == date(2024, 2, 29)


def test_vaccines_carry_their_own_age_limits() -> None:
    limited = Vaccine("X", "Limited", 2, 21, 42, 18, 59)
    assert not vaccine_fits_age(limited, 17)
    assert vaccine_fits_age(limited, 18)
    assert vaccine_fits_age(limited, 59)
    assert not vaccine_fits_age(limited, 60)
    assert vaccine_fits_age(BNT, 120)


# --- the booking rule: age on the day of the appointment --------------------------------------


def test_someone_turning_80_before_the_appointment_may_book_it() -> None:
    born = date(1946, 2, 1)  # 79 today, 80 from 1 February
    assert refusal_for(born, date(2026, 2, 1)) is None
    assert refusal_for(born, date(2026, 2, 20)) is None


def test_someone_still_79_on_the_appointment_day_may_not_book_it() -> None:
    reason = refusal_for(date(1946, 2, 1), date(2026, 1, 31))
    assert reason == (
        "on 2026-01-31 you are 79, and BioNTech is open from age 80; choose a first dose on "
        "2026-02-01 or later"
    )


def test_someone_turning_80_within_the_window_is_eligible_from_the_birthday_on() -> None:
    decision = decide_for(date(1946, 2, 1), cohorts=[OVER_80])
    assert decision.eligible and decision.vaccines == ["BNT", "MOD"]
    assert decision.opens_at is None and decision.reasons == []
    window = DayRange(date(2026, 2, 1), LAST_DAY)
    assert decision.first_dose_days == {"BNT": (window,), "MOD": (window,)}
    assert not decision.first_dose_allowed("BNT", date(2026, 1, 31))
    assert decision.first_dose_allowed("BNT", date(2026, 2, 1))


def test_someone_who_is_80_today_may_take_any_day_of_the_window() -> None:
    decision = decide_for(date(1946, 1, 12), cohorts=[OVER_80])
    assert decision.first_dose_days["BNT"] == (DayRange(TODAY, LAST_DAY),)


def test_a_birthday_after_the_window_ends_is_no_date_to_wait_for() -> None:
    decision = decide_for(date(1946, 4, 1), cohorts=[OVER_80])  # 80 only after 8 March
    assert not decision.eligible and decision.opens_at is None
    assert decision.reasons == [
        "you can book from age 80, for a first dose on 2026-04-01 or later, and the booking "
        "window ends on 2026-03-08; a later window will be announced"
    ]


def test_a_26_year_old_is_told_plainly_that_no_cohort_is_scheduled() -> None:
    decision = decide_for(date(2000, 1, 1))  # 60 in 2060: never a date decades away
    assert not decision.eligible and decision.opens_at is None
    assert decision.reasons == ["no cohort for age 26 is open or scheduled yet in this campaign"]


def test_a_vaccine_up_to_59_counts_the_age_on_the_first_doses_day() -> None:
    up_to_59 = Vaccine("Y", "Bis59", 2, 21, 42, 18, 59)
    everyone = Cohort(3, "18+", 18, None, frozenset({"Y"}), OVER_80_OPENED, OWN_DISTRICT)
    born = date(1966, 2, 10)  # 59 today, 60 from 10 February
    decision = decide_for(born, cohorts=[everyone], vaccines=[up_to_59])
    assert decision.first_dose_days == {"Y": (DayRange(TODAY, date(2026, 2, 9)),)}
    ok = booking_refusal(
        cohorts=[everyone],
        vaccine=up_to_59,
        centre=BIELEFELD,
        birth_date=born,
        day=date(2026, 2, 9),
        district_id=1,
        region_id=1,
        now=NOW,
    )
    too_old = booking_refusal(
        cohorts=[everyone],
        vaccine=up_to_59,
        centre=BIELEFELD,
        birth_date=born,
        day=date(2026, 2, 10),
        district_id=1,
        region_id=1,
        now=NOW,
    )
    assert ok is None
    assert too_old is not None and too_old.reason == "vaccine_age_limit"
    assert str(too_old) == (
        "Bis59 is given up to age 59 and on 2026-02-10 you are 60; choose another vaccine"
    )


def test_a_29_february_birthday_counts_from_1_march_in_a_common_year() -> None:
    now = datetime(2027, 2, 10, 9, 0, tzinfo=TZ)
    over_83 = Cohort(4, "83+", 83, None, frozenset({"BNT"}), OVER_80_OPENED, OWN_DISTRICT)
    born = date(1944, 2, 29)
    decision = decide(
        cohorts=[over_83],
        vaccines=VACCINES,
        centres=CENTRES,
        birth_date=born,
        district_id=1,
        region_id=1,
        now=now,
        today=now.date(),
        window=(now, datetime(2027, 4, 1, tzinfo=TZ)),
    )
    assert decision.first_dose_days == {"BNT": (DayRange(date(2027, 3, 1), date(2027, 3, 31)),)}
    feb_28 = refusal_for(born, date(2027, 2, 28), now=now, cohorts=[over_83])
    assert feb_28 is not None and "2027-03-01 or later" in feb_28
    assert refusal_for(born, date(2027, 3, 1), now=now, cohorts=[over_83]) is None


# --- cohorts open at their minute --------------------------------------------------------------


def test_a_cohort_is_closed_one_minute_before_its_opening_and_open_at_the_minute() -> None:
    born = date(1960, 5, 1)  # 65: only the AZ action fits
    before = decide_for(born, now=AZ_SATURDAY - timedelta(minutes=1))
    assert not before.eligible
    assert before.opens_at == AZ_SATURDAY
    assert before.reasons == ["no cohort for age 65 is open yet"]
    at = decide_for(born, now=AZ_SATURDAY)
    days = (DayRange(AZ_SATURDAY.date(), LAST_DAY),)
    assert at == Decision(True, ["AZ"], [1, 2], first_dose_days={"AZ": days})


def test_booking_in_a_cohort_is_refused_one_minute_before_it_opens() -> None:
    born, day = date(1960, 5, 1), date(2026, 1, 20)
    just_before = refusal_for(born, day, vaccine=AZ, now=AZ_SATURDAY - timedelta(minutes=1))
    assert just_before == "no cohort for age 65 on 2026-01-20 is open yet"
    assert refusal_for(born, day, vaccine=AZ, now=AZ_SATURDAY) is None


def test_each_cohort_offers_only_its_own_vaccines() -> None:
    over_80 = decide_for(date(1939, 5, 1), now=AZ_SATURDAY)
    assert over_80.vaccines == ["BNT", "MOD"]
    assert refusal_for(date(1939, 5, 1), date(2026, 1, 20), vaccine=AZ, now=AZ_SATURDAY) == (
        "the open cohort for age 86 does not include AstraZeneca"
    )


def test_a_vaccine_outside_its_age_limits_is_neither_offered_nor_bookable() -> None:
    young_only = Vaccine("BNT", "BioNTech", 2, 21, 42, 16, 79)
    decision = decide(
        cohorts=[OVER_80],
        vaccines=[young_only, MOD],
        centres=CENTRES,
        birth_date=date(1939, 5, 1),
        district_id=1,
        region_id=1,
        now=NOW,
        today=TODAY,
        window=(WINDOW_FROM, WINDOW_UNTIL),
    )
    assert decision.vaccines == ["MOD"]
    reason = refusal_for(date(1939, 5, 1), date(2026, 1, 20), vaccine=young_only)
    assert reason == (
        "BioNTech is given up to age 79 and on 2026-01-20 you are 86; choose another vaccine"
    )


def test_a_cohort_that_fits_but_is_not_open_yet_names_its_opening_minute() -> None:
    decision = decide_for(date(1955, 1, 1), cohorts=[AZ_60_79])  # 71 now, and the action is 60-79
    assert not decision.eligible
    assert decision.opens_at == AZ_SATURDAY


def test_nobody_is_told_to_wait_for_a_cohort_they_have_outgrown() -> None:
    too_old = decide_for(date(1939, 5, 1), cohorts=[AZ_60_79])
    assert not too_old.eligible
    assert too_old.opens_at is None
    assert too_old.reasons == ["no cohort for age 86 is open or scheduled yet in this campaign"]


def test_a_birth_date_in_the_future_is_never_eligible() -> None:
    decision = decide_for(TODAY + timedelta(days=1))
    assert not decision.eligible
    assert decision.vaccines == [] and decision.centres == []
    assert refusal_for(TODAY + timedelta(days=1), TODAY + timedelta(days=30)) is not None


# --- the district rule ----------------------------------------------------------------------


def test_own_district_rule_allows_only_the_home_districts_centre() -> None:
    assert allowed_centres(OWN_DISTRICT, 1, 1, CENTRES) == [1]
    assert decide_for(date(1939, 5, 1)).centres == [1]


def test_region_wide_rule_allows_every_centre_of_the_region_and_no_other() -> None:
    assert allowed_centres(REGION_WIDE, 1, 1, CENTRES) == [1, 2]
    assert allowed_centres(REGION_WIDE, 9, 2, CENTRES) == [3]


def test_booking_outside_the_own_district_is_refused_with_the_centres_name() -> None:
    reason = refusal_for(date(1939, 5, 1), date(2026, 1, 20), at=GUETERSLOH)
    assert (
        reason == "Impfzentrum Gütersloh is outside your district; book at your district's centre"
    )


def test_a_region_wide_cohort_may_book_at_a_neighbouring_centre_but_not_another_region() -> None:
    born, day = date(1960, 5, 1), date(2026, 1, 20)
    assert refusal_for(born, day, vaccine=AZ, at=GUETERSLOH, now=AZ_SATURDAY) is None
    assert refusal_for(born, day, vaccine=AZ, at=KOELN, now=AZ_SATURDAY) is not None


def test_an_eligible_answer_lists_vaccines_and_centres_and_no_reasons() -> None:
    decision = decide_for(date(1939, 5, 1), now=AZ_SATURDAY)
    days = (DayRange(AZ_SATURDAY.date(), LAST_DAY),)
    assert decision == Decision(
        True, ["BNT", "MOD"], [1], None, [], first_dose_days={"BNT": days, "MOD": days}
    )


KIDS = Vaccine("KIDS", "Kinderimpfstoff", 1, 0, 0, 5, 11)
PLAIN = re.compile(r"[\w .,;'’-]+")


@pytest.mark.parametrize(
    "reason",
    [
        *decide_for(date(1946, 2, 1)).reasons,
        *decide_for(date(1939, 5, 1), cohorts=[AZ_60_79]).reasons,
        refusal_for(date(1946, 2, 1), date(2026, 1, 31)),
        refusal_for(date(1939, 5, 1), date(2026, 1, 20), vaccine=AZ),
        refusal_for(date(1939, 5, 1), date(2026, 1, 20), at=GUETERSLOH),
        refusal_for(
            date(2000, 1, 1), date(2026, 1, 20), vaccine=Vaccine("X", "Kids", 1, 0, 0, 5, 11)
        ),
    ],
)
def test_reasons_are_plain_words(reason: str | None) -> None:
    assert reason is not None
    assert PLAIN.fullmatch(reason), reason
    assert "None" not in reason and "Cohort(" not in reason


# --- properties -------------------------------------------------------------------------------


def reference_age(born: date, day: date) -> int:
    """Count the birthdays passed; a 29 February birthday falls on 1 March in common years."""
    age = 0
    while True:
        year = born.year + age + 1
        try:
            birthday = born.replace(year=year)
        except ValueError:
            birthday = date(year, 3, 1)
        if birthday > day:
            return age
        age += 1


births = st.dates(min_value=date(1896, 1, 1), max_value=date(2026, 12, 31))
# Leap-day births are rare among random dates: draw them on purpose as well.
births_with_leap_days = st.one_of(
    births, st.sampled_from([date(1940, 2, 29), date(1944, 2, 29), date(2000, 2, 29)])
)


@examples()
@given(births_with_leap_days, st.integers(0, 130 * 366))
def test_age_on_matches_counting_birthdays(born: date, days_later: int) -> None:
    day = born + timedelta(days=days_later)
    assert age_on(born, day) == reference_age(born, day)


@examples()
@given(births_with_leap_days, st.integers(0, 130 * 366), st.integers(0, 5000))
def test_age_never_decreases_as_the_date_moves_on(born: date, offset: int, more: int) -> None:
    earlier = born + timedelta(days=offset)
    assert age_on(born, earlier) <= age_on(born, earlier + timedelta(days=more))


@examples()
@given(births_with_leap_days, st.integers(1, 120))
def test_birthday_of_age_is_the_first_day_of_that_age(born: date, age: int) -> None:
    birthday = birthday_of_age(born, age)
    assert age_on(born, birthday) == age
    assert age_on(born, birthday - timedelta(days=1)) == age - 1


# The one age rule, three users: whatever `decide` says about a first-dose day, the booking
# check says the same, around birthdays into and out of cohorts and on 29 February too.
PROPERTY_NOWS = [
    datetime(2026, 1, 17, 9, 0, tzinfo=TZ),  # both demo cohorts open
    datetime(2028, 2, 10, 9, 0, tzinfo=TZ),  # a leap year: 29 February 2028 exists
    datetime(2027, 2, 10, 9, 0, tzinfo=TZ),  # a common year: 29 February counts as 1 March
]
UP_TO_59 = Vaccine("Y", "Bis59", 2, 21, 42, 18, 59)
ALL_OPEN = [
    *COHORTS,
    Cohort(3, "50+", 50, None, frozenset({"Y", "BNT"}), OVER_80_OPENED, OWN_DISTRICT),
]


@st.composite
def births_near_a_threshold(draw: st.DrawFn, now: datetime) -> date:
    """Someone who reaches 50, 60, 80 or outgrows 59 or 79 near the booking window, or is
    born on 29 February."""
    age = draw(st.sampled_from([50, 60, 80, 83, 84, 82, 76, 78]))
    turns = now.date() + timedelta(days=draw(st.integers(-20, 80)))
    leap = draw(st.sampled_from([date(1944, 2, 29), date(1948, 2, 29), date(1968, 2, 29)]))
    return draw(st.sampled_from([birthday_of_age(turns, -age), leap]))


@examples(150)
@given(st.data())
def test_eligibility_and_the_booking_check_agree_on_every_first_dose_day(
    data: st.DataObject,
) -> None:
    now = data.draw(st.sampled_from(PROPERTY_NOWS))
    born = data.draw(births_near_a_threshold(now))
    until = now + timedelta(weeks=8)
    decision = decide(
        cohorts=ALL_OPEN,
        vaccines=[*VACCINES, UP_TO_59],
        centres=CENTRES,
        birth_date=born,
        district_id=1,
        region_id=1,
        now=now,
        today=now.date(),
        window=(now, until),
    )
    any_day = False
    for offset in range(57):
        day = now.date() + timedelta(days=offset)
        for vaccine in (BNT, AZ, UP_TO_59):
            refusal = booking_refusal(
                cohorts=ALL_OPEN,
                vaccine=vaccine,
                centre=BIELEFELD,
                birth_date=born,
                day=day,
                district_id=1,
                region_id=1,
                now=now,
            )
            allowed = decision.first_dose_allowed(vaccine.code, day)
            assert allowed == (refusal is None), (born, day, vaccine.code, refusal)
            any_day = any_day or allowed
    assert decision.eligible == any_day
