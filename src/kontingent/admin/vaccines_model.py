"""What an admin may set for a vaccine: doses, the second dose's interval, age limits.

Invariants kept here:
- Pure: a vaccine's rule is checked whole (after a change is merged into what is stored),
  and every field that is wrong is named with what to write instead, in one answer.
- A two-dose vaccine's interval is ordered: minimum <= recommended <= maximum days, all
  between 0 and `MAX_INTERVAL_DAYS`; a one-dose vaccine has none (all 0, no recommendation).
- Age limits lie within 0..120 and the lower is not above the upper.
- A new vaccine's code is 1 to 40 letters, digits, hyphens or underscores, starting with a
  letter or digit (`CODE_PATTERN`): it appears in URLs and in the API, and never changes.
- A rule speaks of bookings made from now on: bookings already made keep their dates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

MAX_AGE = 120
MAX_NAME = 100  # the column's length
MAX_INTERVAL_DAYS = 365
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
CODE_TEXT = "1 to 40 letters, digits, hyphens or underscores, like BNT"


@dataclass(frozen=True, slots=True)
class VaccineRule:
    code: str
    name: str
    doses: int
    interval_min_days: int = 0
    interval_max_days: int = 0
    interval_recommended_days: int | None = None
    min_age: int | None = None
    max_age: int | None = None

    def changed(self, changes: dict[str, Any]) -> VaccineRule:
        return replace(self, **changes)


def problems(rule: VaccineRule) -> dict[str, str]:
    """Field -> what is wrong with it and what to write; empty when the rule holds."""
    found: dict[str, str] = {}
    if not 0 < len(rule.name.strip()) <= MAX_NAME:
        found["name"] = f"give the vaccine's name, at most {MAX_NAME} characters"
    if rule.doses not in (1, 2):
        found["doses"] = "a vaccine takes 1 or 2 doses"
    found.update(_interval_problems(rule))
    found.update(age_problems(rule.min_age, rule.max_age))
    return found


def new_problems(rule: VaccineRule) -> dict[str, str]:
    """`problems` of a vaccine to add, its code first."""
    found = {} if re.fullmatch(CODE_PATTERN, rule.code) else {"code": f"give {CODE_TEXT}"}
    return found | problems(rule)


def _interval_problems(rule: VaccineRule) -> dict[str, str]:
    low, high, best = rule.interval_min_days, rule.interval_max_days, rule.interval_recommended_days
    if rule.doses == 1:
        if low or high or best is not None:
            return {"interval_min_days": "a one-dose vaccine has no interval: leave it at 0"}
        return {}
    for name, value in (("interval_min_days", low), ("interval_max_days", high)):
        if not 0 <= value <= MAX_INTERVAL_DAYS:
            return {name: f"give days from 0 to {MAX_INTERVAL_DAYS}"}
    if low > high:
        return {"interval_max_days": f"the longest interval is at least the shortest ({low})"}
    if best is not None and not low <= best <= high:
        return {"interval_recommended_days": f"give a number of days from {low} to {high}"}
    return {}


def age_problems(low: int | None, high: int | None) -> dict[str, str]:
    """Age limits (None: no limit on that side) of a vaccine or a cohort."""
    for name, value in (("min_age", low), ("max_age", high)):
        if value is not None and not 0 <= value <= MAX_AGE:
            return {name: f"give an age from 0 to {MAX_AGE}"}
    if low is not None and high is not None and low > high:
        return {"max_age": f"the highest age is at least the lowest ({low})"}
    return {}
