"""The words of SMS and e-mails (kontingent.notifications.messages and texts).

The rules under test: every message comes in the language it is asked for (German for any
other), names the vaccine and the centre's full address, lists what to bring exactly as the
confirmation page does, never words one dose as two, and says "umgebucht" after a rebooking;
the waitlist SMS links to the offers it announces; every text exists in both languages.
"""

from __future__ import annotations

import string
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from kontingent.notifications.messages import (
    booking_messages,
    cancellation_messages,
    moved_messages,
    pin_sms,
    reminder_messages,
    when,
)
from kontingent.notifications.model import BookedAppointment, DueReminder, Message
from kontingent.notifications.texts import BRING_ALONG, T, bring_along, language
from kontingent.waitlist.model import Entry, released_sms

TZ = ZoneInfo("Europe/Berlin")
FIRST = datetime(2026, 1, 12, 9, 20, tzinfo=TZ)
SECOND = datetime(2026, 2, 2, 14, 40, tzinfo=TZ)
CENTRE, ADDRESS = "Impfzentrum Bochum", "Stadionring 20, 44791 Bochum"


def confirmation(lang: str, doses: int = 2, rebooked: bool = False) -> list[Message]:
    starts = (FIRST, SECOND)[:doses]
    return booking_messages(
        code="ABCD-EFGH-JKMN",
        phone="+491701234567",
        emails=["erika@example.org"],
        centre=CENTRE,
        address=ADDRESS,
        vaccine="Johnson & Johnson/Jcovden" if doses == 1 else "BioNTech/Comirnaty",
        doses=doses,
        appointments=[
            BookedAppointment(at, dose, "Erika Mustermann")
            for dose, at in enumerate(starts, start=1)
        ],
        lang=lang,
        rebooked=rebooked,
    )


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    fields = string.Formatter()
    for key, (german, english) in T.items():
        names = [{f[1] for f in fields.parse(text) if f[1]} for text in (german, english)]
        assert german and english, key
        # A date's pattern is each language's own (German writes the month as a number).
        assert names[0] == names[1] or key == "when", key


def test_a_language_we_do_not_speak_reads_as_german() -> None:
    assert language("fr") == language(None) == "de"
    assert "Ihre PIN" in pin_sms("+491701234567", "123456", 30, "fr").body


def test_dates_read_as_people_of_each_language_write_them() -> None:
    assert when(FIRST) == "Mo 12.01.2026 09:20 Uhr"
    assert when(FIRST, "en") == "Mon 12 Jan 2026, 09:20"


@pytest.mark.parametrize(
    ("lang", "sms_start", "subject", "lead"),
    [
        ("de", "Impftermin gebucht", "Ihre Impftermine", "Ihre Impftermine sind verbindlich"),
        ("en", "Vaccination booked", "Your vaccination appointments", "Your vaccination appoint"),
    ],
)
def test_a_confirmation_comes_in_the_booking_language_with_vaccine_and_full_address(
    lang: str, sms_start: str, subject: str, lead: str
) -> None:
    sms, mail = confirmation(lang)
    assert sms.body.startswith(sms_start) and mail.subject.startswith(subject)
    assert lead in mail.body
    for message in (sms, mail):
        assert "BioNTech/Comirnaty" in message.body
        assert f"{CENTRE}, {ADDRESS}" in message.body
        assert when(FIRST, lang) in message.body and when(SECOND, lang) in message.body


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_e_mail_lists_what_to_bring_as_the_confirmation_page_does(lang: str) -> None:
    _, mail = confirmation(lang)
    assert len(bring_along(lang)) == len(BRING_ALONG) == 4
    for item in bring_along(lang):
        assert f"- {item}\n" in mail.body


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_single_dose_is_worded_as_one_appointment(lang: str) -> None:
    sms, mail = confirmation(lang, doses=1)
    for text in (sms.body, mail.subject, mail.body):
        for word in (
            "beide",
            "both",
            "2. Impfung",
            "Dose 2",
            "Termine",
            "appointments",
            "1. Impfung",
        ):
            assert word not in text, (word, text)
    assert ("Impfung (nur eine)" if lang == "de" else "Vaccination (single dose)") in sms.body


def test_a_rebooking_is_confirmed_as_umgebucht_not_gebucht() -> None:
    sms, mail = confirmation("de", rebooked=True)
    assert sms.body.startswith("Impftermin umgebucht") and "umgebucht" in mail.subject
    english, _ = confirmation("en", rebooked=True)
    assert english.body.startswith("Vaccination rebooked")
    (gone,) = moved_messages(
        code="C",
        emails=["a@example.org"],
        location=CENTRE,
        appointments=[BookedAppointment(FIRST, 1, "Erika Mustermann")],
        lang="en",
    )
    assert "was rebooked" in gone.body and "Dose 1 Erika Mustermann" in gone.body


def test_a_cancellation_comes_in_the_booking_language() -> None:
    sms, mail = cancellation_messages(
        code="C", phone="+491701234567", emails=["a@example.org"], lang="en"
    )
    assert "are cancelled" in sms.body and "cancelled" in mail.subject


def test_a_reminder_comes_in_the_booking_language_with_vaccine_and_address() -> None:
    due = DueReminder(
        7, "C", FIRST, 1, "Erika", "+491701234567", CENTRE, ADDRESS, FIRST, "JNJ vax", 1, "en"
    )
    (sms,) = reminder_messages(due)
    assert sms.body.startswith("Reminder: Vaccination (single dose) Erika on Mon 12 Jan")
    assert "JNJ vax" in sms.body and ADDRESS in sms.body


def test_a_landline_gets_no_sms_but_the_e_mails_still_go() -> None:
    """A booking made on the phone may carry the caller's landline: no SMS can reach it."""
    landline = "+49521123456"
    events = [BookedAppointment(FIRST, 1, "Erika"), BookedAppointment(SECOND, 2, "Erika")]
    booked = booking_messages(
        code="C", phone=landline, emails=["a@example.org"], centre=CENTRE, address=ADDRESS,
        vaccine="BioNTech/Comirnaty", appointments=events,
    )  # fmt: skip
    cancelled = cancellation_messages(code="C", phone=landline, emails=["a@example.org"])
    assert [m.channel for m in booked] == [m.channel for m in cancelled] == ["email"]
    due = DueReminder(7, "C", FIRST, 1, "Erika", landline, CENTRE, ADDRESS, FIRST, "BNT", 2, "de")
    assert reminder_messages(due) == []


@pytest.mark.parametrize(("lang", "words"), [("de", "für zwei Personen"), ("en", "for two")])
def test_the_waitlist_sms_links_to_the_offers_it_announces(lang: str, words: str) -> None:
    entry = Entry(1, "+491701234567", 2, "MOD", 2, FIRST, None, lang)
    sms = released_sms(entry, CENTRE, "Moderna/Spikevax", "https://impfen.example.de/")
    assert words in sms.body and "Moderna/Spikevax" in sms.body
    link = next(w for w in sms.body.split() if w.startswith("https://"))
    url = urlsplit(link)
    assert (url.netloc, url.path) == ("impfen.example.de", "/choose")
    query = parse_qs(url.query)
    assert query == {"centre": ["2"], "vaccine": ["MOD"], "persons": ["2"], "lang": [lang]}
