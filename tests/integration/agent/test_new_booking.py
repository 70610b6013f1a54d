"""A new booking at the console, step by step through the app: birth dates and postcode,
the eligibility answer in plain words, the offers, the persons, the booking; refused steps
come back with what was typed, and nothing of a previous caller is shown again."""

from __future__ import annotations

import re

from sqlalchemy import select

from kontingent.app import Services
from kontingent.schema import bookings
from tests.integration.agent.conftest import Browser, audit_rows


async def test_step_one_keeps_what_was_typed_on_a_refusal(agent: Browser) -> None:
    page = await agent.submit(
        "/agent/new",
        {"birth_date": "01.05.1939", "p1.birth_date": "30.02.1940", "postcode": "3360"},
    )
    assert 'class="error-summary"' in page.text
    assert 'value="01.05.1939"' in page.text and 'value="30.02.1940"' in page.text
    assert 'href="#p1-birth_date"' in page.text and 'href="#postcode"' in page.text


async def test_step_two_says_yes_for_a_couple_with_the_vaccines_for_both(agent: Browser) -> None:
    page = await agent.submit(
        "/agent/new",
        {"birth_date": "01.05.1939", "p1.birth_date": "02.03.1938", "postcode": "33602"},
    )
    assert "Darf gebucht werden?" in page.text
    assert page.text.count("Ja, darf jetzt buchen.") == 2
    assert "für beide passt" in page.text and 'href="/agent/new/offers" autofocus' in page.text
    again = await agent.open("/agent/new?change=1")
    assert 'value="02.03.1938"' in again.text
    fresh = await agent.open("/agent/new")
    assert "02.03.1938" not in fresh.text


async def test_step_two_says_when_a_young_caller_may_book(agent: Browser) -> None:
    form = {"birth_date": "01.05.1990", "p1.birth_date": "", "postcode": "33602"}
    page = await agent.submit("/agent/new", form)
    assert "Nein, darf jetzt noch nicht buchen." in page.text
    assert "/agent/new/offers" not in page.text


async def test_a_postcode_outside_the_region_is_refused_in_plain_words(agent: Browser) -> None:
    page = await agent.submit("/agent/new", {"birth_date": "01.05.1939", "postcode": "10115"})
    assert 'class="error-summary"' in page.text and 'value="10115"' in page.text


COUPLE = {"birth_date": "01.05.1939", "p1.birth_date": "12.12.1938", "postcode": "33602"}


def first_offer(page_text: str) -> str:
    found = re.search(r'href="/agent/new/details\?offer=([\d-]+)&amp;vaccine=(\w+)"', page_text)
    assert found, page_text[-3000:]
    return f"/agent/new/details?offer={found.group(1)}&vaccine={found.group(2)}"


def details_form(page_text: str, **fields: str) -> dict[str, str]:
    hidden = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page_text))
    hidden.pop("_csrf_token", None)  # the Browser adds the token of the page it last read
    return {**hidden, **fields}


PERSONS = {
    "p0.first_name": "Irmgard", "p0.last_name": "Keller", "p0.street": "Lindenweg",
    "p0.house_number": "7", "p0.postcode": "33602", "p0.city": "Bielefeld", "p0.email": "",
    "p1.first_name": "Heinz", "p1.last_name": "Keller", "p1.same_address": "1",
    "p1.email": "heinz@example.org", "phone": "0521 123456",
}  # fmt: skip


async def test_a_couple_booked_step_by_step_with_a_landline_and_audited(
    agent: Browser, svc: Services
) -> None:
    await agent.submit("/agent/new", COUPLE)
    offers = await agent.open("/agent/new/offers")
    assert offers.status_code == 200 and "Diesen Termin nehmen" in offers.text
    assert offers.text.count('class="offer agent-offer"') >= 1
    details = await agent.open(first_offer(offers.text))
    assert "12.12.1938" in details.text and 'id="p0-first_name"' in details.text
    refused = await agent.submit(
        "/agent/new/details", details_form(details.text, **{**PERSONS, "p0.city": ""})
    )
    assert 'href="#p0-city"' in refused.text and 'value="Irmgard"' in refused.text
    assert 'value="0521 123456"' in refused.text  # nothing typed is lost
    booked = await agent.submit("/agent/new/details", details_form(refused.text, **PERSONS))
    assert "Gebucht" in booked.text and "Heinz Keller" in booked.text
    code = re.search(r'class="agent-code">([^<]+)<', booked.text)
    assert code, booked.text[-2000:]
    rows = await audit_rows(svc, "booking.create")
    assert rows == [("agent.anna", code.group(1), "browser")]
    async with svc.db.read() as conn:
        row = (await conn.execute(select(bookings).where(bookings.c.code == code.group(1)))).one()
    assert row.channel == "phone"
    again = await agent.open("/agent/new")
    assert "Irmgard" not in again.text and "12.12.1938" not in again.text


async def test_an_offer_for_other_persons_or_without_step_one_is_refused(agent: Browser) -> None:
    start = await agent.open("/agent/new/offers")
    assert 'id="birth_date"' in start.text  # back to step 1
    await agent.submit("/agent/new", COUPLE)
    wrong = await agent.open("/agent/new/details?offer=1-2&vaccine=BNT")  # one person's offer
    assert "Bitte wählen Sie zuerst einen Termin" in wrong.text


async def test_the_details_form_without_its_csrf_token_books_nothing(
    agent: Browser, svc: Services
) -> None:
    await agent.submit("/agent/new", COUPLE)
    details = await agent.open(first_offer((await agent.open("/agent/new/offers")).text))
    answer = await agent.post("/agent/new/details", details_form(details.text, **PERSONS), None)
    assert answer.status_code == 303
    assert await audit_rows(svc, "booking.create") == []


async def test_a_wrong_number_is_named_at_the_phone_field_and_a_second_submit_books_once(
    agent: Browser, svc: Services
) -> None:
    await agent.submit("/agent/new", COUPLE)
    details = await agent.open(first_offer((await agent.open("/agent/new/offers")).text))
    wrong = await agent.submit(
        "/agent/new/details", details_form(details.text, **{**PERSONS, "phone": "12345"})
    )
    assert 'href="#phone"' in wrong.text and "keine deutsche Telefonnummer" in wrong.text
    assert 'value="Irmgard"' in wrong.text and 'value="12345"' in wrong.text
    form = details_form(wrong.text, **PERSONS)
    booked = await agent.submit("/agent/new/details", form)
    code = re.search(r'class="agent-code">([^<]+)<', booked.text)
    assert code
    again = await agent.post("/agent/new/details", form)  # a double click, or back and resend
    assert again.status_code == 303
    assert again.headers["location"] == f"/agent/bookings/{code.group(1)}"
    back = await agent.get("/agent/new/details", offer=form["offer"], vaccine=form["vaccine"])
    assert back.headers["location"] == f"/agent/bookings/{code.group(1)}"
    assert len(await audit_rows(svc, "booking.create")) == 1
