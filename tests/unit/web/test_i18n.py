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
