"""Post/redirect/get on every portal form, couples, and the legal pages, through the app.

Every POST answers 303 (a refused round too), the round is shown once on the form's GET page
with the focus on its summary and the typed data kept, and after a booking the steps before
it lead to the booking. Two persons are offered only a vaccine that fits both; "same address
as person 1" works on the server alone. The Impressum and privacy notice are linked from
every page, which names the operator and links 116 117 as a phone number.
"""

from __future__ import annotations

import re

from tests.integration.web.conftest import Portal, messages, person_form, row_counts
from tests.support import person, phone

SUMMARY = re.compile(r'<div class="error-summary" id="error-summary"[^>]*tabindex="-1" autofocus>')


def location(response: object) -> str:
    return str(response.headers["location"])  # type: ignore[attr-defined]


async def test_every_refused_form_redirects_to_its_page_which_shows_the_round_once(
    portal: Portal,
) -> None:
    rounds = [
        ("/eligibility", {"birth_date": "31.02.1939", "postcode": "33602"}, "/eligibility"),
        ("/manage", {"code": "K7QM", "birth_date": "01.05.1939"}, "/manage"),
    ]
    for path, data, page in rounds:
        await portal.get(page)
        answer = await portal.post(path, data)
        assert answer.status_code == 303 and location(answer) == page, path
        shown = await portal.get(page)
        assert SUMMARY.search(shown.text), path  # the focus lands on the summary, no script
        assert 'value="31.02.1939"' in shown.text or 'value="K7QM"' in shown.text
        again = await portal.get(page)  # a reload: the round was shown, the form is clean
        assert 'class="error-summary"' not in again.text, path
    await portal.verified(phone(20))
    for path, data, page in [
        ("/waitlist", {"centre": "", "vaccine": "BNT"}, "/waitlist"),
        ("/choose/partner", {"p1.birth_date": "1.13.1950"}, "/choose?persons=2"),
    ]:
        answer = await portal.post(path, data)
        assert answer.status_code == 303 and location(answer) == page, path
        assert SUMMARY.search((await portal.get(page)).text), path


async def test_a_refused_booking_keeps_everything_typed_across_the_redirect(
    portal: Portal,
) -> None:
    await portal.verified(phone(21))
    form = await portal.details(await portal.offer(persons=2))
    form.update(person_form(0, person(0, first_name="Käthe")))
    form.update(person_form(1, person(1, first_name="Jürgen", house_number="zwölf")))
    before = await row_counts(portal.services)
    answer = await portal.post("/book", form)
    assert location(answer) == f"/details?offer={form['offer']}"
    page = await portal.get(location(answer))
    assert any("Hausnummer bitte so schreiben" in m for m in messages(page.text))
    assert SUMMARY.search(page.text)
    for typed in ('value="Käthe"', 'value="Jürgen"', 'value="zwölf"'):
        assert typed in page.text
    assert "/book" not in location(answer) and "K%C3%A4the" not in location(answer)
    reload = await portal.get(location(answer))  # once shown, only the typed data stays
    assert 'value="Jürgen"' in reload.text and 'class="error-summary"' not in reload.text
    assert await row_counts(portal.services) == before


async def test_after_a_booking_the_steps_before_it_lead_to_the_booking(portal: Portal) -> None:
    await portal.verified(phone(22))
    code, form = await portal.book(22)
    for step in (f"/details?offer={form['offer']}", "/choose"):  # the back button's pages
        answer = await portal.client.get(step, follow_redirects=False)
        assert location(answer) == f"/confirmation/{code}", step
    assert location(await portal.client.get("/pin", follow_redirects=False)).startswith("/phone")


async def test_offers_for_two_wait_for_the_second_persons_birth_date(portal: Portal) -> None:
    await portal.verified(phone(23))
    page = await portal.get("/choose", persons=2)
    assert 'action="/choose/partner"' in page.text
    assert 'name="offer"' not in page.text  # no offer before both ages are known
    await portal.submit("/choose/partner", {"p1.birth_date": "17.09.1937"})
    page = await portal.get("/choose", persons=2)
    assert 'name="offer"' in page.text
    assert 'value="17.09.1937"' in page.text  # shown, and can be changed
    details = await portal.details(re.findall(r'name="offer" value="([0-9-]+)"', page.text)[0])
    page = await portal.get("/details", offer=details["offer"])
    assert page.text.count('value="17.09.1937"') == 1  # person 2's birth date filled in


async def test_a_couple_is_offered_only_the_vaccine_that_fits_both(portal: Portal) -> None:
    await portal.verified(phone(24))  # person 1 is over 80: every vaccine of the demo
    await portal.get("/choose", persons=2)
    await portal.submit("/choose/partner", {"p1.birth_date": "01.05.1960"})  # 60+: AZ, JNJ
    page = await portal.get("/choose", persons=2, vaccine="BNT")
    assert "Für Sie beide passt: AstraZeneca/Vaxzevria und Johnson" in page.text
    assert 'id="vaccine-BNT"' not in page.text and 'id="vaccine-MOD"' not in page.text
    assert 'id="vaccine-AZ" name="vaccine" value="AZ" checked' in page.text
    offer = re.findall(r'name="offer" value="([0-9-]+)"', page.text)[0]
    slot = await portal.services.inventory.slot(int(offer.split("-")[0]))
    assert slot.vaccine_code == "AZ"
    await portal.submit("/choose/partner", {"p1.birth_date": "01.05.1990"})  # no group open
    page = await portal.get("/choose", persons=2)
    assert "kein Impfstoff frei, den auch Sie bekommen können" in page.text
    assert 'name="offer"' not in page.text


async def test_same_address_as_person_one_is_taken_on_the_server(portal: Portal) -> None:
    await portal.verified(phone(25))
    form = await portal.details(await portal.offer(persons=2))
    page = await portal.get("/details", offer=form["offer"])
    assert 'name="p1.same_address" value="1" checked' in page.text  # ticked by default
    form.update(person_form(0, person(0, street="Lindenweg", house_number="7")))
    second = person(1, street="", house_number="", postcode="", city="")
    form.update(person_form(1, second) | {"p1.same_address": "1"})
    answer = await portal.post("/book", form)
    code = location(answer).rsplit("/", 1)[-1]
    view = await portal.services.booking.find(code, "1939-05-01")
    assert [(p.street, p.house_number, p.postcode) for p in view.persons] == [
        ("Lindenweg", "7", "33602"),
        ("Lindenweg", "7", "33602"),
    ]


async def test_legal_pages_are_linked_everywhere_and_name_the_operator(portal: Portal) -> None:
    for path in ("/", "/eligibility", "/manage", "/impressum", "/datenschutz"):
        page = await portal.get(path)
        assert 'href="/impressum"' in page.text and 'href="/datenschutz"' in page.text, path
        assert "Kassenärztliche Vereinigung Westfalen-Lippe" in page.text, path
        assert '<a href="tel:116117" class="tel">116\u00a0117</a>' in page.text, path
    impressum = await portal.get("/impressum")
    assert "Robert-Schimrigk-Straße" in impressum.text and "Beispielwerte" in impressum.text
    privacy = await portal.get("/datenschutz")
    for said in ("höchstens 12 Stunden", "30 Tage nach dem Versand", "datenschutz@kvwl.example"):
        assert said in privacy.text
    # What `kontingent purge-personal-data` does (tests/integration/test_retention.py).
    assert "für jede Buchung gelöscht, deren Termine vorbei sind" in privacy.text
    await portal.verified(phone(26))
    form = await portal.details(await portal.offer())
    page = (await portal.get("/details", offer=form["offer"])).text
    assert page.index('href="/datenschutz"') < page.index("Verbindlich buchen")
    assert "Was mit Ihren Angaben geschieht" in page
