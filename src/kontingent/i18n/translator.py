"""Texts, dates and numbers in the reader's language.

Invariants kept here:
- Only "de" and "en" exist; anything else a person or a link sends reads as German.
- Every time is shown in Europe/Berlin, whatever zone it was stored in.
- A missing text is a programming error, caught by the tests, never shown as a key.
- Names of days and months, list joining and number formats come from CLDR (Babel) for the
  language's locale; sentence patterns around them are msgids a translator can change.
- "heute" and "morgen" only where the translator knows today (`now`), and never on pages
  that are printed or kept (a confirmation says the date): those use `when`, not `at`.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time

from babel.core import Locale
from babel.dates import format_date, format_skeleton, format_time
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.units import format_unit

from kontingent.clock import BERLIN
from kontingent.i18n.catalogues import LANGUAGES, texts

DEFAULT = "de"
# CLDR locales behind the portal's languages: English is written the British way (24-hour
# clock, day before month), as Germans who read English expect.
LOCALES = {"de": "de_DE", "en": "en_GB"}


@functools.cache
def _locale(name: str) -> Locale:
    """Parsed once: Babel parses a locale given by name on every call, which was a fifth of
    the time a booking's confirmation took to write (cProfile, 300 confirmations)."""
    return Locale.parse(name)


# Formatted once per language and value: a booking's confirmation formats the same few days,
# times and numbers again and again, and each Babel call costs tens of microseconds (formatting
# was a third of a booking's CPU in process: bench/inprocess.py --profile).
@functools.lru_cache(maxsize=4096)
def _full_date(d: date, locale: str) -> str:
    return format_date(d, "full", locale=_locale(locale))


@functools.lru_cache(maxsize=4096)
def _short_date(d: date, locale: str) -> tuple[str, str]:
    """(weekday, medium date): Mo., 12.01.2026."""
    return format_date(d, "EEE", locale=_locale(locale)), format_date(
        d, "medium", locale=_locale(locale)
    )


@functools.lru_cache(maxsize=4096)
def _clock(hour: int, minute: int, locale: str) -> str:
    return format_time(time(hour, minute), "HH:mm", locale=_locale(locale))


@functools.lru_cache(maxsize=4096)
def _decimal(value: int | float, locale: str) -> str:
    return format_decimal(value, locale=_locale(locale))


def N_(key: str) -> str:
    """Marks a key that code passes to `t` by a variable, so that extraction still finds it."""
    return key


def pick(*candidates: str | None) -> str:
    """The first candidate that names a language we speak, else German."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


@functools.lru_cache(maxsize=8192)
def _dated(lang: str, kind: str, at: datetime) -> str:
    """`when` and `when_short`, kept: offers pages show the same few hundred slot times over
    and over, and Babel's formatting was a quarter of the hotline's offers page (cProfile,
    300 pages: 1.7 of 6.5 ms). A text depends on the language and the instant only."""
    translator = Translator(lang)
    return translator._when(at) if kind == "when" else translator._when_short(at)


class Translator:
    """Texts and date formats of one language; `now` (the injected clock's) enables "today"."""

    def __init__(self, lang: str, now: datetime | None = None) -> None:
        self.lang = pick(lang)
        self.locale_name = LOCALES[self.lang]
        self.locale = _locale(self.locale_name)
        self.now = now
        self._texts = texts(self.lang)

    def __call__(self, key: str, **values: object) -> str:
        if key not in self._texts.singular:
            raise KeyError(f"no {self.lang} text for {key!r}: add it to the .po files")
        text = self._texts.translations.gettext(key)
        return text.format(**values) if values else text

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The text for `n` things (gettext's ngettext); `{n}` in it is the number."""
        if (singular, plural) not in self._texts.plural:
            raise KeyError(f"no {self.lang} plural text for {singular!r}: add it to the .po files")
        text = self._texts.translations.ngettext(singular, plural, n)
        return text.format(**{"n": self.number(n), **values})

    # --- dates and times ----------------------------------------------------------------------

    def day(self, at: datetime | date) -> str:
        """Montag, 12. Januar 2026 / Monday, 12 January 2026."""
        d = at.astimezone(BERLIN).date() if isinstance(at, datetime) else at
        return _full_date(d, self.locale_name)

    def day_short(self, d: date) -> str:
        """Mo., 14. Dez. / Mon 14 Dec: a day of a week view, short enough for a narrow column."""
        return format_skeleton("MMMEd", d, locale=self.locale)

    def time(self, at: datetime) -> str:
        """08:00 Uhr / 08:00."""
        local = at.astimezone(BERLIN)
        return self(N_("time.clock"), time=_clock(local.hour, local.minute, self.locale_name))

    def when(self, at: datetime) -> str:
        """The full date and time, as people say it: Montag, 12. Januar 2026, 08:00 Uhr."""
        return _dated(self.lang, "when", at)

    def when_short(self, at: datetime) -> str:
        """The same, short enough for one line of a phone: Mo., 12.01.2026, 08:00 Uhr."""
        return _dated(self.lang, "when_short", at)

    def _when(self, at: datetime) -> str:
        return self(N_("when.date_time"), day=self.day(at), time=self.time(at))

    def _when_short(self, at: datetime) -> str:
        weekday, day = _short_date(at.astimezone(BERLIN).date(), self.locale_name)
        return self(N_("when.short"), weekday=weekday, date=day, time=self.time(at))

    def at(self, at: datetime) -> str:
        """When something happens, to be read in a sentence: "heute um 08:00 Uhr", "morgen um
        08:00 Uhr", else "am Montag, 12. Januar 2026, um 08:00 Uhr"."""
        relative = self._relative_day(at)
        if relative is not None:
            return self(N_("when.relative"), day=relative, time=self.time(at))
        return self(N_("when.on"), day=self.day(at), time=self.time(at))

    def moment(self, at: datetime) -> str:
        """Like `when`, but "heute um 08:00 Uhr" today and "morgen um …" tomorrow: for "ab …"."""
        relative = self._relative_day(at)
        if relative is not None:
            return self(N_("when.relative"), day=relative, time=self.time(at))
        return self.when(at)

    def _relative_day(self, at: datetime) -> str | None:
        if self.now is None:
            return None
        offset = (at.astimezone(BERLIN).date() - self.now.astimezone(BERLIN).date()).days
        return (
            self(N_("day.today"))
            if offset == 0
            else self(N_("day.tomorrow"))
            if offset == 1
            else None
        )

    def birth_date(self, d: date) -> str:
        """01.05.1939 in both languages: the form asks for the date written that way."""
        return f"{d:%d.%m.%Y}"

    # --- numbers and lists ----------------------------------------------------------------------

    def number(self, value: int | float) -> str:
        """12.345 / 12,345."""
        return _decimal(value, self.locale_name)

    def km(self, value: float) -> str:
        """A distance as a number: whole kilometres from 10 on, else one decimal (4,2)."""
        pattern = "#,##0" if value >= 10 else "#,##0.0"
        return format_decimal(value, format=pattern, locale=self.locale)

    def wait(self, seconds: int) -> str:
        """How long to wait, as a person says it: seconds up to 90, then minutes up to two
        hours, then hours; always rounded up, so nobody comes back too early."""
        if seconds <= 90:
            n, unit = max(1, seconds), "duration-second"
        elif seconds < 7200:
            n, unit = -(-seconds // 60), "duration-minute"
        else:
            n, unit = -(-seconds // 3600), "duration-hour"
        return format_unit(n, unit, length="long", locale=self.locale)

    def join(self, items: list[str]) -> str:
        """A, B und C / A, B and C."""
        return format_list(items, locale=self.locale) if items else ""


def phone_display(e164: str | None) -> str:
    """+49 170 1234567: the number grouped the way people read it back."""
    if not e164:
        return ""
    if e164.startswith("+49") and len(e164) > 6:
        return f"+49 {e164[3:6]} {e164[6:]}"
    return e164
