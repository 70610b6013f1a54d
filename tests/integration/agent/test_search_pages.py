"""The console's search and booking screens through the app: the three ways of searching,
one booking's screen with its code spelled, typed data kept on a refusal, audit rows for
each look, and the guards (anonymous to the login page, centre staff 403, CSRF refused)."""

from __future__ import annotations

from kontingent.app import Services
from kontingent.staff.model import Role
from tests.integration.agent.conftest import Browser, Client, audit_rows, web_booking
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_agent_bookings import LANDLINE, agent_book
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.api.test_booking_api import offer_ids
from tests.integration.staff.conftest import add_accounts
from tests.support import person, phone


async def test_a_search_by_code_opens_the_booking_with_its_code_spelled(
    agent: Browser, client: Client, svc: Services, get_token: GetToken
) -> None:
    booking = await web_booking(client, get_token, 0)
    start = await agent.open("/agent")
    assert start.status_code == 200 and 'id="code"' in start.text and "autofocus" in start.text
    page = await agent.submit("/agent", {"by": "code", "code": booking["code"].lower()})
    assert page.status_code == 200
    assert booking["code"] in page.text and person(0)["last_name"] in page.text
    first = booking["code"][0]
    assert "wie" in page.text and "01.05.1939" in page.text
    assert f"{first} wie " in page.text
    # one search, one look, one audit row: the single match is shown, not looked up again
    assert await audit_rows(svc, "booking_lookup") == [("agent.anna", booking["code"], "browser")]


async def test_a_booking_address_with_a_wrong_or_unknown_code_leads_back_to_the_search(
    agent: Browser,
) -> None:
    wrong = await agent.open("/agent/bookings/NOT-A-CODE")
    assert 'value="NOT-A-CODE"' in wrong.text and 'class="error-summary"' in wrong.text
    unknown = await agent.open("/agent/bookings/K7QM-3XPA-9RTD")
    assert "K7QM-3XPA-9RTD" in unknown.text and 'href="#code"' in unknown.text


async def test_english_pages_spell_with_icao(
    agent: Browser, client: Client, get_token: GetToken
) -> None:
    booking = await web_booking(client, get_token, 0)
    page = await agent.open(f"/agent/bookings/{booking['code']}", lang="en")
    assert "as in" in page.text and "Booking code" in page.text


async def test_a_search_by_name_and_birth_date_lists_each_booking(
    agent: Browser, client: Client, svc: Services, get_token: GetToken
) -> None:
    one = await web_booking(client, get_token, 0)
    found = await agent.submit(
        "/agent",
        {"by": "name", "last_name": person(0)["last_name"].upper(), "birth_date": "01.05.1939"},
    )
    assert one["code"] in found.text  # one match: straight to its screen
    rows = await audit_rows(svc, "booking_lookup")
    assert rows[-1] == ("agent.anna", one["code"], "browser")


async def test_a_search_by_phone_and_none_found(
    agent: Browser, client: Client, get_token: GetToken
) -> None:
    booking = await web_booking(client, get_token, 0)
    found = await agent.submit("/agent", {"by": "phone", "phone": phone(0).replace("+49", "0")})
    assert booking["code"] in found.text
    none = await agent.submit("/agent", {"by": "phone", "phone": "0170 9999999"})
    assert "Keine Buchung gefunden" in none.text


async def test_a_bad_search_comes_back_with_what_was_typed_and_the_summary_focused(
    agent: Browser,
) -> None:
    form = {"by": "name", "last_name": "Müller", "birth_date": "31.02.19"}
    page = await agent.submit("/agent", form)
    assert 'class="error-summary"' in page.text and "autofocus" in page.text
    assert 'value="Müller"' in page.text and 'value="31.02.19"' in page.text
    code = await agent.submit("/agent", {"by": "code", "code": "K7QM-3XPA"})
    assert 'value="K7QM-3XPA"' in code.text and 'href="#code"' in code.text
    empty = await agent.submit("/agent", {"by": "phone", "phone": ""})
    assert "Telefonnummer fehlt" in empty.text


async def test_anonymous_goes_to_the_login_and_centre_staff_get_403(
    client: Client, svc: Services
) -> None:
    await add_accounts(svc)
    anonymous = Browser(client)
    answer = await anonymous.get("/agent")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff/login?next=/agent"
    staff = Browser(client)
    await staff.log_in(Role.centre_staff)
    assert (await staff.get("/agent")).status_code == 403
    assert (await staff.get("/agent/new")).status_code == 403


async def test_a_search_without_its_csrf_token_is_refused(agent: Browser, svc: Services) -> None:
    await agent.open("/agent")
    answer = await agent.post("/agent", {"by": "code", "code": "K7QM-3XPA-9RTD"}, csrf=None)
    assert answer.status_code == 303 and answer.headers["location"] == "/agent"
    assert await audit_rows(svc, "booking_lookup") == []


async def test_several_matches_are_listed_with_code_names_centre_dates_and_status(
    agent: Browser, client: Client, svc: Services
) -> None:
    token = await bearer(client, Role.agent)
    codes = []
    for i in (0, 1):  # two neighbours booked under one landline
        answer = await agent_book(
            client, token, [{**person(i), "phone": LANDLINE}], await offer_ids(client)
        )
        assert answer.status_code == 201, answer.text
        codes.append(answer.json()["code"])
    found = await agent.submit("/agent", {"by": "phone", "phone": LANDLINE})
    assert "2 Buchungen gefunden" in found.text
    for i, code in enumerate(codes):
        assert f'href="/agent/bookings/{code}"' in found.text
        assert person(i)["last_name"] in found.text
    assert "Impfzentrum Bielefeld" in found.text and "gebucht" in found.text
    assert found.text.count("1. Impfung") == 2
    opened = await agent.open(f"/agent/bookings/{codes[1]}")
    assert person(1)["last_name"] in opened.text and person(0)["last_name"] not in opened.text
