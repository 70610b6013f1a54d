"""Languages of the portal: German by default, English on request, and dates in both.

Invariants kept here:
- Only "de" and "en" exist; anything else a person or a link sends reads as German.
- Every time is shown in Europe/Berlin, whatever zone it was stored in.
- A missing text is a programming error, caught by the tests, never shown as a key.
"""

from __future__ import annotations

from datetime import date, datetime

from markupsafe import Markup, escape

from kontingent.clock import BERLIN
from kontingent.web.catalogue import M

LANGUAGES = ("de", "en")
DEFAULT = "de"

_WEEKDAYS = (
    ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
)
_MONTHS = (
    (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
)


def pick(*candidates: str | None) -> str:
    """The first candidate that names a language we speak, else German."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


class Translator:
    """Texts and date formats of one language."""

    def __init__(self, lang: str) -> None:
        self.lang = pick(lang)
        self._i = LANGUAGES.index(self.lang)

    def __call__(self, key: str, **values: object) -> str:
        text = M[key][self._i]
        return text.format(**values) if values else text

    def day(self, at: datetime | date) -> str:
        """Monday 12 January 2026 / Montag, 12. Januar 2026."""
        d = at.astimezone(BERLIN).date() if isinstance(at, datetime) else at
        weekday, month = _WEEKDAYS[self._i][d.weekday()], _MONTHS[self._i][d.month - 1]
        if self.lang == "de":
            return f"{weekday}, {d.day}. {month} {d.year}"
        return f"{weekday} {d.day} {month} {d.year}"

    def time(self, at: datetime) -> str:
        local = at.astimezone(BERLIN)
        return f"{local:%H:%M} Uhr" if self.lang == "de" else f"{local:%H:%M}"

    def when(self, at: datetime) -> str:
        """The full date and time of an appointment, as people say it."""
        return (
            f"{self.day(at)}, {self.time(at)}"
            if self.lang == "de"
            else (f"{self.day(at)} at {self.time(at)}")
        )

    def birth_date(self, d: date) -> str:
        return f"{d:%d.%m.%Y}"

    def km(self, value: float) -> str:
        text = f"{value:.0f}" if value >= 10 else f"{value:.1f}"
        return text.replace(".", ",") if self.lang == "de" else text

    def wait(self, seconds: int) -> str:
        """How long to wait, as a person says it: seconds up to 90, then minutes up to two
        hours, then hours; always rounded up, so nobody comes back too early."""
        if seconds <= 90:
            n, words = max(1, seconds), (("Sekunde", "Sekunden"), ("second", "seconds"))
        elif seconds < 7200:
            n, words = -(-seconds // 60), (("Minute", "Minuten"), ("minute", "minutes"))
        else:
            n, words = -(-seconds // 3600), (("Stunde", "Stunden"), ("hour", "hours"))
        one, many = words[self._i]
        return f"{n} {one if n == 1 else many}"

    def join(self, items: list[str]) -> str:
        """A, B and C / A, B und C."""
        if len(items) <= 1:
            return "".join(items)
        word = " und " if self.lang == "de" else " and "
        return ", ".join(items[:-1]) + word + items[-1]


def phone_display(e164: str | None) -> str:
    """+49 170 1234567: the number grouped the way people read it back."""
    if not e164:
        return ""
    if e164.startswith("+49") and len(e164) > 6:
        return f"+49 {e164[3:6]} {e164[6:]}"
    return e164


HOTLINE = "116 117"
_HOTLINE_LINK = Markup('<a href="tel:116117" class="tel">116\u00a0117</a>')


def tel_links(value: object) -> object:
    """Every template value: text naming the hotline gets it as a `tel:` link (the rest of
    the text escaped as usual), so a phone can call it from wherever it appears."""
    if isinstance(value, str) and not isinstance(value, Markup) and HOTLINE in value:
        return _HOTLINE_LINK.join(escape(part) for part in value.split(HOTLINE))
    return value
