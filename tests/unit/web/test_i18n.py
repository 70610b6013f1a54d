"""How long to wait, said the way people say it, in both languages."""

from __future__ import annotations

import pytest

from kontingent.web.i18n import Translator


@pytest.mark.parametrize(
    ("seconds", "de", "en"),
    [
        (0, "1 Sekunde", "1 second"),
        (1, "1 Sekunde", "1 second"),
        (45, "45 Sekunden", "45 seconds"),
        (90, "90 Sekunden", "90 seconds"),
        (91, "2 Minuten", "2 minutes"),
        (200, "4 Minuten", "4 minutes"),
        (1800, "30 Minuten", "30 minutes"),
        (7199, "120 Minuten", "120 minutes"),
        (7200, "2 Stunden", "2 hours"),
        (86_399, "24 Stunden", "24 hours"),
    ],
)
def test_a_wait_is_rounded_up_into_the_unit_people_use(seconds: int, de: str, en: str) -> None:
    assert Translator("de").wait(seconds) == de
    assert Translator("en").wait(seconds) == en


def test_a_moment_to_come_says_today_and_tomorrow_in_words() -> None:
    from datetime import datetime

    from kontingent.clock import BERLIN

    now = datetime(2026, 1, 12, 23, 30, tzinfo=BERLIN)  # late on Monday
    de, en = Translator("de"), Translator("en")
    today = datetime(2026, 1, 12, 23, 45, tzinfo=BERLIN)
    tomorrow = datetime(2026, 1, 13, 8, 0, tzinfo=BERLIN)
    later = datetime(2026, 1, 14, 8, 0, tzinfo=BERLIN)
    assert de.moment(today, now) == "heute um 23:45 Uhr"
    assert de.moment(tomorrow, now) == "morgen um 08:00 Uhr"
    assert de.moment(later, now) == "am Mittwoch, 14. Januar 2026 um 08:00 Uhr"
    assert en.moment(today, now) == "today at 23:45"
    assert en.moment(tomorrow, now) == "tomorrow at 08:00"
    assert en.moment(later, now) == "on Wednesday 14 January 2026 at 08:00"
    # Days are Berlin's whatever zone the times come in: 23:30 UTC on the 12th is already
    # Tuesday 00:30 in Berlin, so Tuesday 08:00 is "today".
    from datetime import UTC

    utc_now = datetime(2026, 1, 12, 23, 30, tzinfo=UTC)
    assert de.moment(tomorrow.astimezone(UTC), utc_now) == "heute um 08:00 Uhr"
