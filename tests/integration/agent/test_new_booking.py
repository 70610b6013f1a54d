"""A new booking at the console, step by step through the app: birth dates and postcode,
the eligibility answer in plain words, the offers, the persons, the booking; refused steps
come back with what was typed, and nothing of a previous caller is shown again."""

from __future__ import annotations

from tests.integration.agent.conftest import Browser


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
