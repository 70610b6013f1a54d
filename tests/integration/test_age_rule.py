"""The age rule end to end, on SQLite and PostgreSQL: a person's age on the day of the first
dose decides, in the eligibility answer, in the offers the portal shows and in the booking
check. Demo data: 80+ (BioNTech, Moderna) and 60+ (AstraZeneca) open at T0 (Monday 12 January
2026); the person below is 79 at T0 and turns 80 on Thursday 22 January."""

from __future__ import annotations

from datetime import date

import pytest

from kontingent.app import Services
from kontingent.errors import InvalidInput
from kontingent.inventory.model import Offer, local_day
from kontingent.web.i18n import Translator
from kontingent.web.views import choice
from tests.support import BIELEFELD, claims_for, db_counts, person, phone

BORN = "1946-01-22"
BIRTHDAY = date(2026, 1, 22)


async def _offer_on(services: Services, day: date) -> Offer:
    offers = (await services.inventory.offers(BIELEFELD, "BNT", 1, day=day)).offers
    assert all(local_day(o.appointments[0].starts_at) == day for o in offers)
    return offers[0]


async def test_a_first_dose_before_the_80th_birthday_is_refused_naming_the_day(
    services: Services,
) -> None:
    claims = await claims_for(services, phone(0))
    early = await _offer_on(services, date(2026, 1, 21))
    before = await db_counts(services.db)
    with pytest.raises(InvalidInput) as refused:
        await services.booking.book(claims, [person(0, birth_date=BORN)], early.slot_ids)
    error = refused.value
    assert error.status == 422 and error.code == "not_eligible"
    assert error.details["reason"] == "too_young_on_that_day"
    assert "on 2026-01-21 you are 79" in error.message
    assert "choose a first dose on 2026-01-22 or later" in error.message
    assert await db_counts(services.db) == before


async def test_a_first_dose_on_the_80th_birthday_is_booked(services: Services) -> None:
    claims = await claims_for(services, phone(1))
    on_the_day = await _offer_on(services, BIRTHDAY)
    view = await services.booking.book(claims, [person(1, birth_date=BORN)], on_the_day.slot_ids)
    assert view.status == "booked"


async def test_the_portal_shows_only_first_doses_from_the_birthday_on(
    services: Services,
) -> None:
    answer = await services.eligibility.check(BORN, "33602")
    view = await choice(services.inventory, answer, "BNT", 1, Translator("en"))
    keys = [card.key for centre in view.centres for card in centre.offers]
    assert keys, "there are offers from the birthday on"
    for key in keys:
        first = min(int(i) for i in key.split("-"))
        slot = await services.inventory.slot(first)
        assert local_day(slot.starts_at) >= BIRTHDAY, key
    # Someone who is 80 already sees the earliest offers, days before that birthday.
    older = await services.eligibility.check("1946-01-12", "33602")
    seen = await choice(services.inventory, older, "BNT", 1, Translator("en"))
    earliest = await services.inventory.slot(int(seen.centres[0].offers[0].key.split("-")[0]))
    assert local_day(earliest.starts_at) < BIRTHDAY
