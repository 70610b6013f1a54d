"""What an SMS costs (kontingent.notifications.model.sms_parts, gsm7) and that ours stay cheap.

The decision under test: every SMS, in German and in English, for every demo centre (the
longest names and streets) and every vaccine, is written in the GSM-7 alphabet and takes at
most two parts; the PIN takes one. German umlauts and ß are in GSM-7 (GSM 03.38), so they
cost nothing extra and stay. What would push an SMS to UCS-2 (70 characters a part, 67 when
split) is an en dash, typographic quotes, or a person's name with a letter like ş or ł: so SMS
name no persons (a couple shares each slot, and the e-mail names everyone) except the
reminder, whose person the phone's owner needs to know, and every SMS passes `gsm7`, which
writes Ayşe as Ayse. A name in another script (Cyrillic) is left as it is: the reminder then
takes 4 UCS-2 parts, which is better than a name nobody can read. Measured with the test data
below: the longest confirmation is 242 GSM-7 characters (de; en 229), the reminder 237, the
waitlist SMS with a 43-character portal address 296 (de; en 294): all 2 parts of at most 306.
A portal address longer than about 50 characters would push the waitlist SMS to a third part.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from kontingent.demo.seed import VACCINES, read_centres
from kontingent.notifications.messages import (
    booking_messages,
    cancellation_messages,
    pin_sms,
    reminder_messages,
)
from kontingent.notifications.model import BookedAppointment, DueReminder, gsm7, sms_parts
from kontingent.waitlist.model import Entry, released_sms

TZ = ZoneInfo("Europe/Berlin")
# Wide dates: two-digit days, the longest month names.
FIRST = datetime(2026, 9, 23, 19, 40, tzinfo=TZ)
SECOND = datetime(2026, 11, 25, 19, 40, tzinfo=TZ)
PHONE, CODE = "+491701234567", "ABCD-EFGH-JKMN"
# A realistic public address, longer than most: the waitlist SMS carries a link to it.
PORTAL = "https://impftermine.kvwl-westfalen-lippe.de"
# The reminder names the person: a long name in GSM-7 letters.
NAME = "Hildegard Müller-Lüdenscheidt"


def places() -> list[tuple[str, str]]:
    return [
        (f"Impfzentrum {row['district']}", f"{row['street']}, {row['postcode']} {row['city']}")
        for row in read_centres()
    ]


def confirmations(lang: str, centre: str, address: str) -> Iterator[str]:
    for _, vaccine, doses, *_ in VACCINES:
        for persons in (1, 2):
            booked = [
                BookedAppointment(at, dose, f"Person {p}", person=p)
                for dose, at in enumerate((FIRST, SECOND)[:doses], start=1)
                for p in range(persons)
            ]
            for rebooked in (False, True):
                sms, *_ = booking_messages(
                    code=CODE,
                    phone=PHONE,
                    emails=[],
                    centre=centre,
                    address=address,
                    vaccine=vaccine,
                    appointments=booked,
                    doses=doses,
                    lang=lang,
                    rebooked=rebooked,
                )
                yield sms.body


def others(lang: str, centre: str, address: str) -> Iterator[str]:
    for _, vaccine, doses, *_ in VACCINES:
        due = DueReminder(7, CODE, FIRST, doses, NAME, PHONE, centre, address, FIRST, vaccine)
        yield reminder_messages(due)[0].body
        for persons in (1, 2):
            entry = Entry(1, PHONE, 27, "JNJ", persons, FIRST, None, lang)
            yield released_sms(entry, centre, vaccine, PORTAL).body
    for n in (1, 2, 4):
        booked = [BookedAppointment(FIRST, 1, "P", person=p) for p in range(n)]
        cancelled = cancellation_messages(
            code=CODE, phone=PHONE, emails=[], vaccine="", appointments=booked, lang=lang
        )
        yield cancelled[0].body


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_sms_for_every_centre_and_vaccine_is_gsm7_in_at_most_two_parts(lang: str) -> None:
    longest = 0
    for centre, address in places():
        for body in [*confirmations(lang, centre, address), *others(lang, centre, address)]:
            encoding, parts = sms_parts(body)
            assert (encoding, parts <= 2) == ("gsm7", True), (parts, len(body), body)
            longest = max(longest, len(body))
    assert longest > 160  # the test data does reach the second part


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_pin_takes_one_part(lang: str) -> None:
    assert sms_parts(pin_sms(PHONE, "042917", 30, lang).body) == ("gsm7", 1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, ("gsm7", 1)),
        ("a" * 161, ("gsm7", 2)),
        ("ä" * 306, ("gsm7", 2)),  # umlauts are GSM-7: 2 parts of 153
        ("ÄÖÜäöüß" * 40 + "é", ("gsm7", 2)),
        ("ä" * 307, ("gsm7", 3)),
        ("€" * 80, ("gsm7", 1)),  # the extension table: two septets each
        ("€" * 81, ("gsm7", 2)),
        ("a" * 69 + "–", ("ucs2", 1)),  # an en dash: the whole SMS becomes UCS-2
        ("a" * 70 + "„", ("ucs2", 2)),
        ("Ayşe " * 26 + "Yı", ("ucs2", 2)),  # 132 units: 2 parts of 67
        ("Ayşe " * 27, ("ucs2", 3)),
    ],
)
def test_sms_parts_count_gsm7_septets_and_ucs2_units(text: str, expected: tuple[str, int]) -> None:
    assert sms_parts(text) == expected


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Ayşe Yılmaz", "Ayse Yilmaz"),
        ("Łukasz Wąsowski", "Lukasz Wasowski"),
        ("Đorđe Đoković", "Dorde Dokovic"),
        ("Nguyễn Thị Minh", "Nguyen Thi Minh"),
        ("Jürgen Größe, Ærø, Ñandú", "Jürgen Größe, Ærø, Ñandu"),  # GSM-7 letters stay
        ("A – B „C“ ‚D‘ E…", "A - B \"C\" 'D' E..."),
        ("Иван Петров", "Иван Петров"),  # no stand-in: left as it is
    ],
)
def test_gsm7_folds_accents_and_typography_but_never_umlauts(text: str, folded: str) -> None:
    assert gsm7(text) == folded


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_reminder_for_a_name_outside_gsm7_still_takes_two_parts(lang: str) -> None:
    centre, address = max(places(), key=lambda p: len(p[0]) + len(p[1]))
    due = DueReminder(7, CODE, FIRST, 1, "Ayşe Yılmaz-Öztürk", PHONE, centre, address, FIRST)
    (sms,) = reminder_messages(replace(due, language=lang, vaccine="BioNTech/Comirnaty"))
    assert "Ayse Yilmaz-Öztürk" in sms.body and sms_parts(sms.body) == ("gsm7", 2)
    cyrillic = replace(due, person_name="Иван Петров", language=lang, vaccine="BioNTech/Comirnaty")
    # The documented cost of a name with no GSM-7 stand-in, at the longest demo address.
    assert sms_parts(reminder_messages(cyrillic)[0].body) == ("ucs2", {"de": 4, "en": 3}[lang])
