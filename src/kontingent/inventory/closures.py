"""Days the centres are closed for offers: the public holidays of North Rhine-Westphalia,
except those an admin opened for one centre or for all.

Invariants kept here:
- Holidays come from the `holidays` package (Germany, subdivision "NW"), computed per year on
  first use and kept: no hand-made list of dates to forget a movable feast in.
- An opened day opens only what it names: a row with a centre opens that centre, a row
  without opens every centre. Ordinary days are never closed here (opening hours decide
  which slots exist at all).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cache

import holidays


@cache
def _holidays_of(year: int) -> dict[date, str]:
    # Worked out on first use of a year, not at import; a plain dict then, because offers ask
    # about every day of a second-dose window and the package's lookup parses its argument.
    return dict(holidays.country_holidays("DE", subdiv="NW", years=year).items())


def is_public_holiday(day: date) -> bool:
    return day in _holidays_of(day.year)


def holiday_name(day: date) -> str | None:
    return _holidays_of(day.year).get(day)


@dataclass(frozen=True, slots=True)
class Closures:
    """The opened days: (centre id or None for every centre, day)."""

    opened: frozenset[tuple[int | None, date]] = field(default_factory=frozenset)

    @classmethod
    def of(cls, rows: Iterable[tuple[int | None, date]]) -> Closures:
        return cls(frozenset(rows))

    def closed(self, centre_id: int, day: date) -> bool:
        if not is_public_holiday(day):
            return False
        return (None, day) not in self.opened and (centre_id, day) not in self.opened
