"""Every portal form answers bad input with a plain message at the field, and stores nothing.

For each form: empty, too long, wrong format and script tags; the typed text comes back
escaped (never as markup), and the row counts of every table a form could write stay equal.
Every answer to a POST is a redirect (303) to a GET page that shows the round (`submit`), so
the back button never asks to resubmit. Forged or missing CSRF tokens are refused with a
clear message, before anything runs.
"""

from __future__ import annotations

import re

import pytest

from tests.integration.web.conftest import Portal, messages, person_form, row_counts
from tests.support import person, phone

SCRIPT = "<script>alert(1)</script>"
LONG = "9" * 301


def assert_escaped(html: str) -> None:
    assert "<script" not in html.lower()
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize(
    ("birth_date", "postcode", "field", "expected"),
    [
        ("", "33602", "birth_date", "Geburtsdatum fehlt."),
        ("01.05.1939", "", "postcode", "Postleitzahl fehlt."),
        (LONG, "33602", "birth_date", "Geburtsdatum ist zu lang: höchstens 300 Zeichen."),
        ("1939/05/01", "33602", "birth_date", "Geburtsdatum bitte so schreiben"),
        ("31.02.1939", "33602", "birth_date", "Dieses Datum gibt es nicht"),
        ("01.05.2939", "33602", "birth_date", "liegt in der Zukunft"),
        ("01.05.1939", "3360", "postcode", "Die Postleitzahl hat fünf Ziffern"),
        ("01.05.1939", "99999", "postcode", "Diese Postleitzahl kennen wir nicht"),
        (SCRIPT, "33602", "birth_date", "Geburtsdatum bitte so schreiben"),
    ],
)
async def test_eligibility_form(
    portal: Portal, birth_date: str, postcode: str, field: str, expected: str
) -> None:
    await portal.get("/eligibility")
    before = await row_counts(portal.services)
    answer = await portal.submit("/eligibility", {"birth_date": birth_date, "postcode": postcode})
    assert f'id="{field}-error"' in answer.text
    assert any(expected in m for m in messages(answer.text)), messages(answer.text)
    assert f'href="#{field}"' in answer.text  # the summary links to the field
    if birth_date == SCRIPT:
        assert_escaped(answer.text)
    assert await row_counts(portal.services) == before


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "Handynummer fehlt."),
        (LONG, "Handynummer ist zu lang"),
        ("030 1234567", "keine deutsche Handynummer"),
        (SCRIPT, "keine deutsche Handynummer"),
    ],
)
async def test_phone_form(portal: Portal, value: str, expected: str) -> None:
    await portal.eligible()
    await portal.get("/phone")
    before = await row_counts(portal.services)
    answer = await portal.submit("/phone", {"phone": value})
    assert any(expected in m for m in messages(answer.text)), messages(answer.text)
    if value == SCRIPT:
        assert_escaped(answer.text)
    assert await row_counts(portal.services) == before


async def test_phone_resend_too_soon_says_when(portal: Portal) -> None:
    await portal.pin_sent(phone(1))
    before = await row_counts(portal.services)
    answer = await portal.submit("/pin/resend", {})
    assert "Eine neue können Sie in 60 Sekunden anfordern" in answer.text
    assert await row_counts(portal.services) == before


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "PIN fehlt."),
        (LONG, "PIN ist zu lang"),
        ("12a456", "Die PIN hat 6 Ziffern"),
        ("wrong", "Die PIN stimmt nicht"),
        (SCRIPT, "Die PIN hat 6 Ziffern"),
    ],
)
async def test_pin_form(portal: Portal, value: str, expected: str) -> None:
    await portal.pin_sent(phone(2))
    if value == "wrong":
        from tests.support import read_pin

        right = await read_pin(portal.services, phone(2))
        value = f"{(int(right) + 1) % 1_000_000:06d}"
    before = await row_counts(portal.services)
    answer = await portal.submit("/pin", {"pin": value})
    assert any(expected in m for m in messages(answer.text)), messages(answer.text)
    assert "gilt 30 Minuten" in answer.text  # the page still says how long the PIN lasts
    assert "<script" not in answer.text.lower()  # a PIN is never echoed back at all
    assert await row_counts(portal.services) == before


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("first_name", "", "Vorname fehlt."),
        ("first_name", "E" * 101, "Vorname ist zu lang: höchstens 100 Zeichen."),
        ("city", LONG, "Ort ist zu lang: höchstens 300 Zeichen."),
        ("house_number", "zwölf", "Hausnummer bitte so schreiben"),
        ("birth_date", "1.13.1939", "Dieses Datum gibt es nicht"),
        ("email", "erika@", "E-Mail-Adresse bitte so schreiben"),
        ("last_name", SCRIPT, "Nachname: bitte nur Buchstaben"),
        ("street", SCRIPT, "Straße: bitte nur Buchstaben"),
    ],
)
async def test_persons_form(portal: Portal, field: str, value: str, expected: str) -> None:
    await portal.verified(phone(3))
    form = await portal.details(await portal.offer(persons=2))
    form.update(person_form(0, person(0)))
    form.update(person_form(1, person(1, **{field: value})))
    before = await row_counts(portal.services)
    answer = await portal.submit("/book", form)
    assert f'id="p1-{field}-error"' in answer.text
    assert any(expected in m for m in messages(answer.text)), messages(answer.text)
    assert f'<a href="#p1-{field}">Person 2: ' in answer.text
    assert 'value="Erika"' in answer.text  # what was typed stays
    if value == SCRIPT:
        assert_escaped(answer.text)
    assert await row_counts(portal.services) == before


@pytest.mark.parametrize(
    ("code", "birth_date", "field", "expected"),
    [
        ("", "01.05.1939", "code", "Buchungscode fehlt."),
        ("K7QM-3XPA-9RTD", "", "birth_date", "Geburtsdatum fehlt."),
        (LONG, "01.05.1939", "code", "Buchungscode ist zu lang"),
        ("K7QM-3XPA", "01.05.1939", "code", "Ein Buchungscode hat 12 Zeichen"),
        (SCRIPT, "01.05.1939", "code", "Ein Buchungscode hat 12 Zeichen"),
        ("K7QM-3XPA-9RTD", "01.05.1939", "code", "Wir finden keine Buchung"),
    ],
)
async def test_manage_form(
    portal: Portal, code: str, birth_date: str, field: str, expected: str
) -> None:
    await portal.get("/manage")
    before = await row_counts(portal.services)
    answer = await portal.submit("/manage", {"code": code, "birth_date": birth_date})
    assert f'id="{field}-error"' in answer.text
    assert any(expected in m for m in messages(answer.text)), messages(answer.text)
    if code == SCRIPT:
        assert_escaped(answer.text)
    assert await row_counts(portal.services) == before


@pytest.mark.parametrize(
    ("centre", "vaccine", "field", "expected"),
    [
        ("", "BNT", "centre", "Bitte wählen Sie ein Impfzentrum"),
        ("999", "BNT", "centre", "Bitte wählen Sie ein Impfzentrum"),
        (LONG, "BNT", "centre", "Bitte wählen Sie ein Impfzentrum"),
        ("1", "", "vaccine", "Bitte wählen Sie einen Impfstoff"),
        ("1", SCRIPT, "vaccine", "Bitte wählen Sie einen Impfstoff"),
    ],
)
async def test_waitlist_form(
    portal: Portal, centre: str, vaccine: str, field: str, expected: str
) -> None:
    await portal.verified(phone(4))
    await portal.get("/waitlist")
    before = await row_counts(portal.services)
    answer = await portal.submit("/waitlist", {"centre": centre, "vaccine": vaccine})
    assert f'id="{field}-error"' in answer.text
    assert any(expected in m for m in messages(answer.text)), messages(answer.text)
    assert "<script" not in answer.text.lower()
    assert await row_counts(portal.services) == before


async def test_rebook_form_refuses_a_made_up_offer(portal: Portal) -> None:
    await portal.verified(phone(5))
    code, _ = await portal.book(5)
    await portal.get("/manage")
    found = await portal.post("/manage", {"code": code, "birth_date": "01.05.1939"})
    assert found.status_code == 303
    await portal.get(f"/manage/{code}/rebook")
    before = await row_counts(portal.services)
    for offer in ("", SCRIPT, "1-2-3-4-5-6-7-8-9", "999999999-999999998"):
        answer = await portal.submit(f"/manage/{code}/rebook", {"offer": offer})
        assert "Dieses Angebot gibt es so nicht mehr" in answer.text
        assert "<script" not in answer.text.lower()
    assert await row_counts(portal.services) == before


FORMS = [
    ("/eligibility", {"birth_date": "01.05.1939", "postcode": "33602"}),
    ("/phone", {"phone": "0170 1234567"}),
    ("/pin", {"pin": "123456"}),
    ("/pin/resend", {}),
    ("/book", {"offer": "1-2", "p0.first_name": "Erika"}),
    ("/manage", {"code": "K7QM-3XPA-9RTD", "birth_date": "01.05.1939"}),
    ("/waitlist", {"centre": "1", "vaccine": "BNT"}),
]
FORGED = "f" * 64 + "0" * 64  # the shape of a token, signed with nothing


@pytest.mark.parametrize(("path", "data"), FORMS)
async def test_forged_or_missing_csrf_token_is_refused(
    portal: Portal, path: str, data: dict[str, str]
) -> None:
    await portal.verified(phone(6))
    before = await row_counts(portal.services)
    tampered = portal.token[:-1] + ("1" if portal.token.endswith("0") else "0")
    for token in (FORGED, None, "not-a-token", tampered):
        answer = await portal.submit(path, data, csrf=token)  # 303 to the form, saying why
        assert "Das Formular konnte nicht angenommen werden" in answer.text
        assert "Es wurde nichts gespeichert" in answer.text
        assert 'class="error-summary"' in answer.text
        assert answer.headers["content-type"].startswith("text/html")
    assert await row_counts(portal.services) == before
    accepted = await portal.submit(path, data)  # the same post with the page's token gets in
    assert "Das Formular konnte nicht angenommen werden" not in accepted.text


async def test_cancel_needs_the_csrf_token_too(portal: Portal) -> None:
    await portal.verified(phone(7))
    code, _ = await portal.book(7)
    await portal.post("/manage", {"code": code, "birth_date": "01.05.1939"})
    before = await row_counts(portal.services)
    answer = await portal.submit(f"/manage/{code}/cancel", {}, csrf=FORGED)
    assert "Das Formular konnte nicht angenommen werden" in answer.text
    assert await row_counts(portal.services) == before
    view = await portal.get(f"/manage/{code}")
    assert re.search(r'status--booked">gebucht<', view.text)


async def test_the_api_stays_json_and_needs_no_csrf_token(portal: Portal) -> None:
    answer = await portal.client.post(
        "/api/v1/eligibility", json={"birth_date": "1939-05-01", "postcode": "33602"}
    )
    assert answer.status_code == 200
    missing = await portal.client.get("/api/v1/bookings/K7QM-3XPA-9RTD?birth_date=1939-05-01")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "booking_not_found"


async def test_rebook_needs_the_csrf_token_too(portal: Portal) -> None:
    await portal.verified(phone(8))
    code, _ = await portal.book(8)
    await portal.post("/manage", {"code": code, "birth_date": "01.05.1939"})
    page = await portal.get(f"/manage/{code}/rebook")
    offer = re.search(r'name="offer" value="([0-9-]+)"', page.text)
    assert offer is not None, "the rebook page offers other appointments"
    before = await row_counts(portal.services)
    for token in (FORGED, None):
        answer = await portal.submit(
            f"/manage/{code}/rebook", {"offer": offer.group(1)}, csrf=token
        )
        assert "Es wurde nichts gespeichert" in answer.text
    assert await row_counts(portal.services) == before
    view = await portal.get(f"/manage/{code}")
    assert re.search(r'status--booked">gebucht<', view.text)
