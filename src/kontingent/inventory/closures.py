"""Days the centres are closed for offers: the public holidays of North Rhine-Westphalia,
except those an admin opened for one centre or for all, and the days an admin closed one
centre (`closed_days`, admin/centres_closures.py).

Invariants kept here:
- Holidays come from the `holidays` package (Germany, subdivision "NW"), computed per year on
  first use and kept: no hand-made list of dates to forget a movable feast in.
- An opened day opens only what it names: a row with a centre opens that centre, a row
  without opens every centre. A closed day closes its centre whatever else holds (opening
  a holiday does not open a day closed on purpose). Other ordinary days are never closed
  here (opening hours decide which slots exist at all).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    """The opened days: (centre id or None for every centre, day); the closed days: (centre
    id, day) -> the reason given."""

    opened: frozenset[tuple[int | None, date]] = field(default_factory=frozenset)
    shut: Mapping[tuple[int, date], str] = field(default_factory=dict, hash=False)

    @classmethod
    def of(
        cls,
        rows: Iterable[tuple[int | None, date]],
        shut: Iterable[tuple[int, date, str]] = (),
    ) -> Closures:
        return cls(frozenset(rows), {(c, d): reason for c, d, reason in shut})

    def why(self, centre_id: int, day: date) -> str | None:
        """Why the centre is closed that day (the reason given, or the holiday's name);
        None when it is open."""
        if (centre_id, day) in self.shut:
            return self.shut[(centre_id, day)] or "closed"
        return holiday_name(day) if self.closed(centre_id, day) else None

    def closed(self, centre_id: int, day: date) -> bool:
        if (centre_id, day) in self.shut:
            return True
        if not is_public_holiday(day):
            return False
        return (None, day) not in self.opened and (centre_id, day) not in self.opened
