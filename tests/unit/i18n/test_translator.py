"""Texts, plural forms, dates and numbers as people read them in German and English."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kontingent.clock import BERLIN
from kontingent.i18n import Translator, pick

NOW = datetime(2026, 1, 12, 7, 30, tzinfo=UTC)  # Monday 08:30 in Berlin
DE, EN = Translator("de", NOW), Translator("en", NOW)


def test_dates_in_german_and_english() -> None:
    at = datetime(2026, 3, 29, 8, 30, tzinfo=UTC)  # the night summer time starts in Berlin
    assert DE.when(at) == "Sonntag, 29. März 2026, 10:30 Uhr"
    assert EN.when(at) == "Sunday, 29 March 2026 at 10:30"
    assert DE.day(date(2026, 1, 1)) == "Donnerstag, 1. Januar 2026"
    assert DE.time(at) == "10:30 Uhr" and EN.time(at) == "10:30"
    assert DE.birth_date(date(1939, 5, 1)) == "01.05.1939" == EN.birth_date(date(1939, 5, 1))


def test_today_and_tomorrow_are_said_as_such_other_days_by_their_date() -> None:
    today, tomorrow = (
        datetime(2026, 1, 12, 8, 0, tzinfo=BERLIN),
        datetime(2026, 1, 13, 8, 0, tzinfo=BERLIN),
    )
    later = datetime(2026, 1, 14, 9, 0, tzinfo=BERLIN)
    assert DE.at(today) == "heute um 08:00 Uhr" and EN.at(today) == "today at 08:00"
    assert DE.at(tomorrow) == "morgen um 08:00 Uhr" and EN.at(tomorrow) == "tomorrow at 08:00"
    assert DE.at(later) == "am Mittwoch, 14. Januar 2026, um 09:00 Uhr"
    assert EN.at(later) == "on Wednesday, 14 January 2026 at 09:00"
    assert DE.moment(today) == "heute um 08:00 Uhr"
    assert DE.moment(later) == "Mittwoch, 14. Januar 2026, 09:00 Uhr"


def test_today_is_the_berlin_day_not_the_utc_one() -> None:
    late = Translator("de", datetime(2026, 1, 12, 23, 30, tzinfo=UTC))  # 00:30 on the 13th
    assert late.at(datetime(2026, 1, 13, 8, 0, tzinfo=BERLIN)) == "heute um 08:00 Uhr"


def test_without_a_clock_no_day_is_called_today() -> None:
    assert Translator("de").at(NOW) == "am Montag, 12. Januar 2026, um 08:30 Uhr"


@pytest.mark.parametrize(
    ("n", "de", "en"),
    [
        (
            1,
            "Die PIN gilt 1 Minute, also bis 09:00 Uhr.",
            "The PIN is valid for 1 minute, until 09:00.",
        ),
        (
            30,
            "Die PIN gilt 30 Minuten, also bis 09:00 Uhr.",
            "The PIN is valid for 30 minutes, until 09:00.",
        ),
    ],
)
def test_plural_forms_follow_the_number(n: int, de: str, en: str) -> None:
    assert DE.plural("pin.valid", "pin.valid.plural", n, until="09:00 Uhr") == de
    assert EN.plural("pin.valid", "pin.valid.plural", n, until="09:00") == en


def test_one_vaccine_or_several() -> None:
    one = DE.plural("result.yes.vaccines", "result.yes.vaccines.plural", 1, vaccines="Moderna")
    names = DE.join(["AstraZeneca", "BioNTech", "Moderna"])
    several = DE.plural("result.yes.vaccines", "result.yes.vaccines.plural", 3, vaccines=names)
    assert one == "Impfstoff: Moderna."
    assert several == "Impfstoffe: AstraZeneca, BioNTech und Moderna."
    others = DE.plural("result.yes.others", "result.yes.others.plural", 1)
    assert others == "Sie dürfen auch in 1 anderen Impfzentrum buchen"


def test_a_wait_of_one_second_is_in_1_sekunde() -> None:
    assert "in 1 Sekunde anfordern" in DE("err.resend_too_soon", wait=DE.wait(1))
    assert "in 1 second." in EN("err.resend_too_soon", wait=EN.wait(1))
    assert "in 30 Sekunden von selbst" in DE("queue.paused", wait=DE.wait(30))


def test_numbers_and_lists_in_each_language() -> None:
    assert DE.km(23.44) == "23" and DE.km(4.25) == "4,2" and EN.km(4.25) == "4.2"
    assert DE.number(12345) == "12.345" and EN.number(12345) == "12,345"
    assert EN.join(["A", "B", "C"]) == "A, B and C" and DE.join(["A"]) == "A"
    assert DE.join([]) == ""


def test_an_unknown_language_reads_as_german() -> None:
    assert pick("fr", None, "en") == "en" and pick(None) == "de"
    assert Translator("fr")("nav.start") == "Startseite"
