"""What an admin may set for a cohort: name, age range, vaccines, opening minute, district rule.

Invariants kept here:
- Pure: a cohort is checked whole (after a change is merged into what is stored), every
  wrong field named with what to write instead, in one answer.
- A cohort opens on a whole minute (seconds and fractions 0), given with its offset: it is
  open from that minute on (`Cohort.is_open`), decided per request against the clock.
- Its vaccines exist and are at least one; its ages lie within 0..120, lower <= upper.
- The district rule is `own` (the centre of the person's own district) or `region`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from kontingent.admin.vaccines_model import age_problems

DISTRICT_RULES = ("own", "region")


@dataclass(frozen=True, slots=True)
class CohortRule:
    name: str
    min_age: int
    max_age: int | None
    vaccines: frozenset[str]
    opens_at: datetime
    district_rule: str = "own"

    def changed(self, changes: dict[str, Any]) -> CohortRule:
        return replace(self, **changes)


def problems(rule: CohortRule, known_vaccines: Collection[str]) -> dict[str, str]:
    """Field -> what is wrong with it and what to write; empty when the rule holds."""
    found: dict[str, str] = {}
    if not rule.name.strip():
        found["name"] = "give the cohort a name, like 'Aged 80 and over'"
    found.update(age_problems(rule.min_age, rule.max_age))
    unknown = sorted(rule.vaccines - set(known_vaccines))
    if not rule.vaccines:
        found["vaccines"] = "choose at least one vaccine"
    elif unknown:
        found["vaccines"] = (
            f"no vaccine {', '.join(unknown)}: use {', '.join(sorted(known_vaccines))}"
        )
    found.update(opening_problems(rule.opens_at, "opens_at"))
    if rule.district_rule not in DISTRICT_RULES:
        found["district_rule"] = "own (the home district's centre) or region (any centre)"
    return found


def opening_problems(at: datetime | None, field: str) -> dict[str, str]:
    """An opening is a whole minute with its offset (a page's local time is made aware)."""
    if at is None:
        return {}
    if at.tzinfo is None:
        return {field: "give the time with its offset, like 2021-04-06T08:00+02:00"}
    if at.second or at.microsecond:
        return {field: "give a whole minute, like 08:00 (no seconds)"}
    return {}
