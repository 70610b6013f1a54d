"""Eligibility on SQLite and PostgreSQL with the demo cohorts: 80+ (BioNTech, Moderna, open),
60+ (AstraZeneca, Johnson & Johnson, open) and 70-79 (BioNTech, Moderna, opening 14 days after
T0 at 08:00), all region-wide.

What these tests hold the service to: the answer names the vaccines and centres open now, or
says when the person's cohort opens; a cohort opens at its minute by the injected clock; bad
dates and postcodes are refused with a message naming the field.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kontingent.app import Services
from kontingent.clock import BERLIN, FixedClock
from kontingent.errors import InvalidInput
from kontingent.schema import cohorts
from tests.support import changed_rows

SEVENTIES_OPEN = datetime(2026, 1, 26, 8, 0, tzinfo=BERLIN)  # demo: T0's day + 14, 08:00
ALL_CENTRES = ["Impfzentrum Bielefeld", "Impfzentrum Bochum", "Impfzentrum Bottrop"]


async def test_over_80_may_book_every_open_vaccine_region_wide(services: Services) -> None:
    answer = await services.eligibility.check("1939-05-01", "33602")
    decision = answer.decision
    assert decision.eligible and decision.opens_at is None and decision.reasons == []
    assert decision.vaccines == ["AZ", "BNT", "JNJ", "MOD"]
    assert decision.centres == [1, 2, 3] and answer.centre_names == ALL_CENTRES
    assert answer.district == "Bielefeld"


async def test_70_to_79_get_only_the_astrazeneca_action_until_their_cohort_opens(
    services: Services, clock: FixedClock
) -> None:
    clock.set(SEVENTIES_OPEN - timedelta(minutes=1))
    before = (await services.eligibility.check("1950-06-01", "44791")).decision
    assert before.eligible and before.vaccines == ["AZ", "JNJ"]
    clock.set(SEVENTIES_OPEN)
    after = (await services.eligibility.check("1950-06-01", "44791")).decision
    assert after.vaccines == ["AZ", "BNT", "JNJ", "MOD"]


async def test_70_to_79_are_told_when_their_cohort_opens(services: Services) -> None:
    # Postpone the 60+ action, so only the 70-79 cohort is left for a 75-year-old.
    later = SEVENTIES_OPEN + timedelta(days=30)
    async with changed_rows(services.db, cohorts, cohorts.c.min_age == 60, opens_at=later):
        answer = await services.eligibility.check("1950-06-01", "44791")
    decision = answer.decision
    assert not decision.eligible and decision.vaccines == [] and decision.centres == []
    assert decision.opens_at == SEVENTIES_OPEN
    assert decision.reasons == ["no cohort for age 75 is open yet"]


async def test_under_60_are_told_plainly_that_no_cohort_is_scheduled(services: Services) -> None:
    decision = (await services.eligibility.check("1970-03-15", "46236")).decision
    assert not decision.eligible
    assert decision.opens_at is None  # not 2030, when they turn 60: nothing is scheduled
    assert decision.reasons == ["no cohort for age 55 is open or scheduled yet in this campaign"]


async def test_someone_turning_80_soon_may_book_first_doses_from_the_birthday(
    services: Services,
) -> None:
    # 79 at T0 (12 January 2026), 80 on 22 January; the 70-79 cohort opens only on 26 January.
    decision = (await services.eligibility.check("1946-01-22", "33602")).decision
    assert decision.eligible
    bnt = decision.first_dose_days["BNT"]
    assert [r.first.isoformat() for r in bnt] == ["2026-01-22"]
    assert decision.first_dose_days["AZ"][0].first.isoformat() == "2026-01-12"  # 60+: today


@pytest.mark.parametrize(
    ("birth_date", "postcode", "code", "field", "words"),
    [
        ("1939-05-01", "99999", "unknown_postcode", "postcode", "99999 does not exist"),
        ("1939-05-01", "3360", "invalid_input", "postcode", "five digits"),
        ("2030-01-01", "33602", "invalid_input", "birth_date", "in the future"),
        ("1939-02-30", "33602", "invalid_input", "birth_date", "not a real date"),
        ("01.05.1939", "33602", "invalid_input", "birth_date", "YYYY-MM-DD"),
        ("1850-01-01", "33602", "invalid_input", "birth_date", "cannot be right"),
    ],
)
async def test_bad_input_is_refused_with_what_to_fix(
    services: Services, birth_date: str, postcode: str, code: str, field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await services.eligibility.check(birth_date, postcode)
    error = refused.value
    assert error.status == 422 and error.code == code
    assert words in error.message
    assert error.details.get("field") == field or field in error.details.get("fields", {})
