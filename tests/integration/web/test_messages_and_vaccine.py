"""Issue 14 (items 3, 4, 8) through the pages, on both dialects: messages in the language the
person used, the vaccine and the centre's street in page, SMS and e-mail, the offer buttons
that cannot book a vaccine other than the one chosen, one-dose wording, rebooking's
confirmation step, and the waitlist SMS whose link opens the offers it announces."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from kontingent.app import Services
from kontingent.i18n import Translator
from kontingent.notifications.messages import bring_along
from kontingent.schema import bookings, outbox
from tests.integration.web.conftest import Portal, person_form
from tests.support import person, phone

ADDRESS = "Am Stadtholz 24, 33602 Bielefeld"  # the demo's Bielefeld centre


async def sent(services: Services, to: str) -> list[tuple[str, str, str]]:
    """(channel, subject, body) of every message queued to `to`, oldest first."""
    async with services.db.read() as conn:
        query = (
            select(outbox.c.channel, outbox.c.subject, outbox.c.body)
            .where(outbox.c.recipient == to)
            .order_by(outbox.c.id)
        )
        return [(r[0], r[1] or "", r[2]) for r in (await conn.execute(query)).all()]


async def book_in(
    portal: Portal, i: int, vaccine: str = "BNT", verify: bool = True
) -> tuple[str, str]:
    """Book `vaccine` through the pages (phone `i` + 940); (code, the confirmation page)."""
    if verify:
        await portal.verified(phone(i + 940))
    page = await portal.get("/choose", vaccine=vaccine, persons=1)
    key = re.search(r'name="offer" value="([0-9-]+)"', page.text)
    assert key, page.text
    form = await portal.details(key.group(1))
    form.update(person_form(0, person(i, email=f"p{i}@example.org")), vaccine=vaccine)
    answer = await portal.post("/book", form)
    assert answer.status_code == 303, answer.text
    confirmation = await portal.get(answer.headers["location"])
    return answer.headers["location"].rsplit("/", 1)[-1], confirmation.text


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("de", ("Impftermin gebucht (BioNTech/Comirnaty)", "Ihre Impftermine", "Bitte mitbringen")),
        ("en", ("Vaccination booked (BioNTech/Comirnaty)", "Your vaccination", "Please bring")),
    ],
)
async def test_sms_and_email_come_in_the_language_the_booking_was_made_in(
    portal: Portal, services: Services, lang: str, words: tuple[str, str, str]
) -> None:
    await portal.get("/", lang=lang)
    code, page = await book_in(portal, 1)
    (sms,) = [m for m in await sent(services, phone(1 + 940)) if "PIN" not in m[2]]
    (mail,) = await sent(services, "p1@example.org")
    assert words[0] in sms[2] and code in sms[2]
    assert words[1] in mail[1] and words[2] in mail[2]
    for message in (sms[2], mail[2], page):
        assert "BioNTech/Comirnaty" in message and ADDRESS in message
    other = "Please bring" if lang == "de" else "Bitte mitbringen"
    assert other not in mail[2]
    for item in bring_along(Translator(lang)):  # one list for the page and the e-mail
        assert f"- {item}" in mail[2] and f"<li>{item}</li>" in page
    async with services.db.read() as conn:
        stored = await conn.execute(select(bookings.c.language).where(bookings.c.code == code))
        assert stored.scalar_one() == lang


async def test_the_pin_sms_comes_in_the_language_of_the_page(
    portal: Portal, services: Services
) -> None:
    await portal.get("/", lang="en")
    await portal.pin_sent(phone(2 + 940))
    ((_, _, pin),) = await sent(services, phone(2 + 940))
    assert "Your PIN" in pin and "minutes" in pin


async def test_every_offer_and_the_details_name_the_vaccine(portal: Portal) -> None:
    await portal.verified(phone(3 + 940))
    page = await portal.get("/choose", vaccine="MOD", persons=1)
    offers = page.text.count('class="offer"')
    assert offers and page.text.count("Impfstoff: Moderna/Spikevax") == offers
    key = re.search(r'name="offer" value="([0-9-]+)"', page.text)
    assert key
    details = await portal.get("/details", offer=key.group(1))
    assert "Impfstoff: Moderna/Spikevax" in details.text
    assert 'name="vaccine" value="MOD"' in details.text


async def test_an_offer_pressed_after_changing_the_vaccine_radio_books_nothing_old(
    portal: Portal, services: Services
) -> None:
    """The radio says Moderna, the offer shown was BioNTech: the page shows Moderna's offers
    and says why, instead of taking the person to book BioNTech."""
    await portal.verified(phone(4 + 940))
    page = await portal.get("/choose", vaccine="BNT", persons=1)
    key = re.search(r'name="offer" value="([0-9-]+)"', page.text)
    assert key
    query = {"vaccine": "BNT", "persons": "1", "offer": key.group(1)}
    same = await portal.client.get("/choose", params=query, follow_redirects=False)
    assert same.status_code == 303 and same.headers["location"].startswith("/details?offer=")
    changed = await portal.get("/choose", vaccine="MOD", persons="1", offer=key.group(1))
    assert changed.status_code == 200
    assert "Sie haben Moderna/Spikevax gewählt, das Angebot war für BioNTech/Comirnaty" in (
        changed.text
    )
    assert "Impfstoff: Moderna/Spikevax" in changed.text
    assert "Impfstoff: BioNTech/Comirnaty" not in changed.text
    # A details form posted with another vaccine than its slots' is refused, not booked.
    form = await portal.details(key.group(1))
    form.update(person_form(0, person(4)), vaccine="MOD")
    refused = await portal.submit("/book", form)  # 303 to fresh offers, saying why
    assert "für einen anderen Impfstoff" in refused.text
    async with services.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(bookings))).scalar() == 0


async def test_a_one_dose_vaccine_is_never_worded_as_two_appointments(
    portal: Portal, services: Services
) -> None:
    await portal.verified(phone(5 + 940))
    offers = await portal.get("/choose", vaccine="JNJ", persons=1)
    assert "nur einmal" in offers.text and "beide" not in offers.text
    _, page = await book_in(portal, 5, vaccine="JNJ", verify=False)
    assert "Ihr Termin ist gebucht" in page and "Impfung (nur eine)" in page
    (sms,) = [m for m in await sent(services, phone(5 + 940)) if "PIN" not in m[2]]
    (mail,) = await sent(services, "p5@example.org")
    for text in (page, sms[2], mail[1], mail[2]):
        # Not after a letter or digit: a booking code ending in 2 stands before ". Impfung".
        assert "beide" not in text and not re.search(r"(?<![\w-])2\. Impfung", text)
    for text in (sms[2], mail[1], mail[2]):
        assert "Impftermine" not in text and "Termine" not in text
    assert "Ihr Impftermin ist verbindlich gebucht" in mail[2]


async def test_rebooking_confirms_first_never_offers_the_current_first_slot_and_says_umgebucht(
    portal: Portal, services: Services
) -> None:
    code, _ = await book_in(portal, 6)
    found = await portal.post("/manage", {"code": code, "birth_date": "01.05.1939"})
    assert found.status_code == 303
    view = await services.booking.find(code, "1939-05-01")
    (held,) = [a.slot_id for a in view.appointments if a.dose == 1]
    page = await portal.get(f"/manage/{code}/rebook")
    keys = re.findall(r'name="offer" value="([0-9-]+)"', page.text)
    assert keys and all(int(k.split("-")[0]) != held for k in keys)  # first dose first
    assert f'<h2 id="centre-{view.centre_id}"' in page.text
    confirm = await portal.get(f"/manage/{code}/rebook/confirm", offer=keys[0])
    assert confirm.status_code == 200 and "Wirklich umbuchen?" in confirm.text
    assert (await services.booking.find(code, "1939-05-01")).appointments  # nothing moved yet
    done = await portal.post(f"/manage/{code}/rebook", {"offer": keys[0]})
    assert done.status_code == 303
    sms = [m[2] for m in await sent(services, phone(6 + 940)) if "PIN" not in m[2]]
    assert sms[-1].startswith("Impftermin umgebucht") and "Impftermin gebucht" not in sms[-1]
    mails = await sent(services, "p6@example.org")
    assert any("umgebucht" in subject for _, subject, _ in mails)


async def test_the_waitlist_sms_link_opens_the_offers_it_announces(
    portal: Portal, services: Services
) -> None:
    """Bochum (centre 2), two persons, in English: the link shows Bochum's offers first, for
    two, in English, after the steps the person still has to take."""
    await services.waitlist.join(phone(7 + 940), 2, "MOD", 2, "en")
    assert await services.waitlist.notify_released() == 1
    ((_, _, sms),) = await sent(services, phone(7 + 940))
    assert "are free at Impfzentrum Bochum" in sms and "for 2 persons" in sms
    link = re.search(r"https?://\S+", sms)
    assert link
    url = urlsplit(link.group(0))
    assert url.path == "/choose"
    first = await portal.client.get(f"{url.path}?{url.query}", follow_redirects=False)
    assert first.status_code in (302, 303)  # no steps taken yet: eligibility first
    await portal.verified(phone(7 + 940))
    asks = await portal.get("/choose")  # two persons: the second birth date comes first
    assert 'name="p1.birth_date"' in asks.text
    await portal.submit("/choose/partner", {"p1.birth_date": "17.09.1937"})
    page = await portal.get("/choose")
    centres = re.findall(r'<h[23] id="centre-(\d+)"', page.text)
    assert centres[0] == "2"
    assert "Vaccine: Moderna/Spikevax" in page.text
    assert 'id="persons" name="persons" value="2" checked' in page.text
    assert len(re.search(r'name="offer" value="([0-9-]+)"', page.text).group(1).split("-")) == 4
