"""The words of SMS and e-mails (kontingent.notifications.messages, texts in the catalogues).

The rules under test: every message kind comes in the language it is asked for (German for
any other) with none of the other language's words, names the vaccine and the centre's full
address, lists what to bring exactly as the confirmation page does, never words one dose as
two, and says "umgebucht" after a rebooking; the waitlist SMS links to the offers it announces.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from kontingent.i18n import Translator, pick
from kontingent.notifications.messages import (
    BRING_ALONG,
    booking_messages,
    bring_along,
    cancellation_messages,
    moved_messages,
    pin_sms,
    reminder_messages,
)
from kontingent.notifications.model import BookedAppointment, DueReminder, Message
from kontingent.waitlist.model import Entry, released_sms

TZ = ZoneInfo("Europe/Berlin")
FIRST = datetime(2026, 1, 12, 9, 20, tzinfo=TZ)
SECOND = datetime(2026, 2, 2, 14, 40, tzinfo=TZ)
CENTRE, ADDRESS = "Impfzentrum Bochum", "Stadionring 20, 44791 Bochum"
PHONE, CODE = "+491701234567", "ABCD-EFGH-JKMN"
TWO_DOSES, ONE_DOSE = "BioNTech/Comirnaty", "Johnson & Johnson/Jcovden"
PORTAL = "https://impfen.example.de/"


def appointments(doses: int = 2, persons: int = 1) -> list[BookedAppointment]:
    names = ("Erika Mustermann", "Max Mustermann")[:persons]
    return [
        BookedAppointment(at, dose, name, person=person)
        for dose, at in enumerate((FIRST, SECOND)[:doses], start=1)
        for person, name in enumerate(names)
    ]


def confirmation(
    lang: str, doses: int = 2, rebooked: bool = False, persons: int = 1
) -> list[Message]:
    return booking_messages(
        code=CODE,
        phone=PHONE,
        emails=["erika@example.org"],
        centre=CENTRE,
        address=ADDRESS,
        vaccine=ONE_DOSE if doses == 1 else TWO_DOSES,
        doses=doses,
        appointments=appointments(doses, persons),
        lang=lang,
        rebooked=rebooked,
    )


def cancellation(lang: str, doses: int = 2) -> list[Message]:
    return cancellation_messages(
        code=CODE,
        phone=PHONE,
        emails=["erika@example.org"],
        location=f"{CENTRE}, {ADDRESS}",
        vaccine=TWO_DOSES,
        appointments=appointments(doses),
        doses=doses,
        lang=lang,
    )


def moved(lang: str) -> list[Message]:
    return moved_messages(
        code=CODE,
        emails=["erika@example.org"],
        location=f"{CENTRE}, {ADDRESS}",
        vaccine=TWO_DOSES,
        appointments=appointments()[1:],
        lang=lang,
    )


def reminder(lang: str, doses: int = 2) -> list[Message]:
    due = DueReminder(
        7, CODE, FIRST, 1, "Erika", PHONE, CENTRE, ADDRESS, FIRST, TWO_DOSES, doses, lang
    )
    return reminder_messages(due)


def waitlist(lang: str, persons: int = 2) -> list[Message]:
    entry = Entry(1, PHONE, 2, "MOD", persons, FIRST, None, lang)
    return [released_sms(entry, CENTRE, "Moderna/Spikevax", PORTAL)]


KINDS: dict[str, Callable[[str], list[Message]]] = {
    "booking": confirmation,
    "couple": lambda lang: confirmation(lang, persons=2),
    "single dose": lambda lang: confirmation(lang, doses=1),
    "rebooked": lambda lang: confirmation(lang, rebooked=True),
    "cancelled": cancellation,
    "moved": moved,
    "reminder": reminder,
    "waitlist": waitlist,
    "pin": lambda lang: [pin_sms(PHONE, "042917", 30, lang)],
}
# Words only one language uses: a German message with an English one (or the reverse) has a
# text taken from the wrong catalogue or written into code.
ENGLISH = re.compile(
    r"\b(the|your?|booked|rebooked|cancel\w*|dose|vaccination|bring|appointments?|with|hello)\b",
    re.IGNORECASE,
)
GERMAN = re.compile(
    r"\b(ihre?|sie|und|gebucht|umgebucht|abgesagt|impf\w*|uhr|termine?|mit|guten|bitte)\b",
    re.IGNORECASE,
)


def words(messages: list[Message]) -> str:
    """Everything a reader sees, less our names of centres, vaccines and people."""
    text = " ".join(f"{m.subject} {m.body}" for m in messages)
    text = re.sub(re.escape(PORTAL.rstrip("/")) + r"\S*", "", text)
    for name in (CENTRE, ADDRESS, TWO_DOSES, ONE_DOSE, "Moderna/Spikevax", "impftermine.ics"):
        text = text.replace(name, "")
    return text


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_of_message_comes_in_german_and_english_without_the_other_language(
    kind: str,
) -> None:
    german, english = words(KINDS[kind]("de")), words(KINDS[kind]("en"))
    assert german != english
    assert GERMAN.search(german) and not ENGLISH.search(german), german
    assert ENGLISH.search(english) and not GERMAN.search(english), english


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_language_we_do_not_speak_reads_as_german(kind: str) -> None:
    assert pick("fr") == pick(None) == "de"
    assert words(KINDS[kind]("fr")) == words(KINDS[kind]("de"))


@pytest.mark.parametrize(
    ("lang", "sms_start", "subject", "lead", "when_sms", "when_mail"),
    [
        (
            "de",
            "Impftermin gebucht (BioNTech/Comirnaty)",
            "Ihre Impftermine",
            "Ihre Impftermine sind verbindlich gebucht.",
            "1. Impfung: Mo., 12.01.2026, 09:20 Uhr",
            "1. Impfung für Erika Mustermann: Montag, 12. Januar 2026, 09:20 Uhr",
        ),
        (
            "en",
            "Vaccination booked (BioNTech/Comirnaty)",
            "Your vaccination appointments",
            "Your vaccination appointments are booked.",
            "Dose 1: Mon 12 Jan 2026 at 09:20",
            "Dose 1 for Erika Mustermann: Monday, 12 January 2026 at 09:20",
        ),
    ],
)
def test_a_confirmation_comes_in_the_booking_language_with_vaccine_and_full_address(
    lang: str, sms_start: str, subject: str, lead: str, when_sms: str, when_mail: str
) -> None:
    sms, mail = confirmation(lang)
    assert sms.body.startswith(sms_start) and mail.subject.startswith(subject)
    assert lead in mail.body and when_sms in sms.body and when_mail in mail.body
    for message in (sms, mail):
        assert TWO_DOSES in message.body and CODE in message.body
        assert f"{CENTRE}, {ADDRESS}" in message.body


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_e_mail_lists_what_to_bring_as_the_confirmation_page_does(lang: str) -> None:
    _, mail = confirmation(lang)
    items = bring_along(Translator(lang))
    assert len(items) == len(BRING_ALONG) == 4
    assert "\n".join(f"- {item}" for item in items) in mail.body


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_single_dose_is_worded_as_one_appointment(lang: str) -> None:
    messages = [*confirmation(lang, doses=1), *cancellation(lang, doses=1), *reminder(lang, 1)]
    for text in (f"{m.subject}\n{m.body}" for m in messages):
        for word in ("beide", "both", "2. Impfung", "Dose 2", "1. Impfung", "Dose 1"):
            assert word not in text, (word, text)
        for word in ("Termine", "appointments", "Impftermine"):
            assert word not in text, (word, text)
    sms = messages[0].body
    assert ("Impfung (nur eine)" if lang == "de" else "Vaccination (single dose)") in sms


def test_a_rebooking_is_confirmed_as_umgebucht_not_gebucht() -> None:
    sms, mail = confirmation("de", rebooked=True)
    assert sms.body.startswith("Impftermin umgebucht") and "Neu: 1. Impfung" in sms.body
    assert "umgebucht" in mail.subject and "umgebucht" in mail.body
    assert " gebucht" not in sms.body + mail.subject
    english, _ = confirmation("en", rebooked=True)
    assert english.body.startswith("Vaccination rebooked") and "New: Dose 1" in english.body
    (gone,) = moved("en")
    assert "was rebooked" in gone.body and "Dose 2 for Erika Mustermann" in gone.body
    assert gone.subject == f"Old appointment removed – code {CODE}"  # one moved, worded as one


@pytest.mark.parametrize(
    ("lang", "sms", "subject"),
    [
        ("de", "Ihre Impftermine mit dem Code", "Absage Ihrer Impftermine"),
        ("en", "Your vaccination appointments with the code", "appointments are cancelled"),
    ],
)
def test_a_cancellation_comes_in_the_booking_language(lang: str, sms: str, subject: str) -> None:
    text, mail = cancellation(lang)
    assert text.body.startswith(sms) and subject in mail.subject
    assert "Erika Mustermann" in mail.body and "Erika" not in text.body


@pytest.mark.parametrize(
    ("lang", "start"),
    [
        ("de", "Erinnerung: 1. Impfung für Erika am Mo., 12.01.2026, 09:20 Uhr (BioNTech/"),
        ("en", "Reminder: Dose 1 for Erika on Mon 12 Jan 2026 at 09:20 (BioNTech/"),
    ],
)
def test_a_reminder_comes_in_the_booking_language_with_vaccine_and_address(
    lang: str, start: str
) -> None:
    (sms,) = reminder(lang)
    assert sms.body.startswith(start) and f"{CENTRE}, {ADDRESS}" in sms.body


@pytest.mark.parametrize(
    ("lang", "two", "one"),
    [
        ("de", "für 2 Personen", "Impftermine frei"),
        ("en", "for 2 persons", "appointments are free at"),
    ],
)
def test_the_waitlist_sms_links_to_the_offers_it_announces(lang: str, two: str, one: str) -> None:
    (sms,) = waitlist(lang)
    assert two in sms.body and "Moderna/Spikevax" in sms.body
    (alone,) = waitlist(lang, persons=1)
    assert two not in alone.body and one in alone.body
    link = next(w for w in sms.body.split() if w.startswith("https://"))
    url = urlsplit(link)
    assert (url.netloc, url.path) == ("impfen.example.de", "/choose")
    query = parse_qs(url.query)
    assert query == {"centre": ["2"], "vaccine": ["MOD"], "persons": ["2"], "lang": [lang]}


@pytest.mark.parametrize(("lang", "minutes"), [("de", "30 Minuten"), ("en", "30 minutes")])
def test_the_pin_sms_says_the_pin_and_how_long_it_holds(lang: str, minutes: str) -> None:
    (sms,) = KINDS["pin"](lang)
    assert "042917" in sms.body and minutes in sms.body


def test_a_landline_gets_no_sms_but_the_e_mails_still_go() -> None:
    """A booking made on the phone may carry the caller's landline: no SMS can reach it."""
    landline = "+49521123456"
    events = [BookedAppointment(FIRST, 1, "Erika"), BookedAppointment(SECOND, 2, "Erika")]
    booked = booking_messages(
        code="C", phone=landline, emails=["a@example.org"], centre=CENTRE, address=ADDRESS,
        vaccine="BioNTech/Comirnaty", appointments=events,
    )  # fmt: skip
    cancelled = cancellation_messages(
        code="C", phone=landline, emails=["a@example.org"], vaccine="BioNTech/Comirnaty"
    )
    assert [m.channel for m in booked] == [m.channel for m in cancelled] == ["email"]
    due = DueReminder(7, "C", FIRST, 1, "Erika", landline, CENTRE, ADDRESS, FIRST, "BNT", 2, "de")
    assert reminder_messages(due) == []
