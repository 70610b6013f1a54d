"""What the start page and the eligibility result say about groups and vaccines, worded.

Invariants kept here:
- Both pages take their groups and vaccines from eligibility/groups.py, the same rules the
  eligibility answer follows, so the start page never lists for an age what the check then
  refuses, nor leaves out what it grants (tests/integration/web/test_start_agrees.py).
- The vaccine advice reads the public availability feed (cached, cheap in the rush): the
  earliest day with a free offer at a centre the person may book at, never before the first
  day their age allows that vaccine.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kontingent.eligibility.groups import Advice, Choice, advise, age_groups, next_groups
from kontingent.eligibility.model import Decision
from kontingent.inventory.model import Vaccine
from kontingent.inventory.repository import Catalogue
from kontingent.web.i18n import Translator
from kontingent.web.page import Portal


def who(t: Translator, min_age: int, max_age: int | None) -> str:
    if max_age is None:
        return t("cohort.min", age=min_age)
    return t("cohort.range", low=min_age, high=max_age)


def _names(t: Translator, catalogue: Catalogue, codes: tuple[str, ...]) -> str:
    return t.join(sorted(catalogue.vaccines[code].name for code in codes))


def start_context(portal: Portal, catalogue: Catalogue) -> dict[str, Any]:
    """The open groups (oldest first) and the next ones, each with its vaccines."""
    t, now = portal.t, portal.now
    vaccines = list(catalogue.vaccines.values())
    open_now = [
        {"who": who(t, g.min_age, g.max_age), "vaccines": _names(t, catalogue, g.vaccines)}
        for g in age_groups(catalogue.cohorts, vaccines, now)
    ]
    later = [
        {
            "who": who(t, g.min_age, g.max_age),
            "vaccines": _names(t, catalogue, g.vaccines),
            "opens": t.when(g.opens_at),
        }
        for g in next_groups(catalogue.cohorts, vaccines, now)
    ]
    return {"open_cohorts": open_now, "next_cohorts": later}


async def advice_context(
    portal: Portal, catalogue: Catalogue, decision: Decision
) -> dict[str, Any] | None:
    """Which vaccine to pick and why, when several fit this person; None when one does."""
    if len(decision.vaccines) < 2:
        return None
    feed = await portal.services.inventory.feed()
    allowed = set(decision.centres)
    first_free: dict[str, date | None] = {}
    for code in decision.vaccines:
        days = [
            r.first_free_day
            for r in feed.rows
            if r.vaccine.code == code and r.centre.id in allowed and r.free_offers > 0
        ]
        earliest = min((d for d in days if d is not None), default=None)
        ranges = decision.first_dose_days.get(code, ())
        if earliest is not None and ranges:
            earliest = max(earliest, ranges[0].first)
        first_free[code] = earliest
    advice = advise([catalogue.vaccines[c] for c in decision.vaccines], first_free)
    return None if advice is None else _worded(portal.t, advice)


def _worded(t: Translator, advice: Advice) -> dict[str, Any]:
    pick = advice.pick
    if advice.reason == "soonest" and pick.complete is not None:
        why = t("result.pick.soonest", vaccine=pick.vaccine.name, day=t.day(pick.complete))
    else:
        why = t("result.pick.shortest", vaccine=pick.vaccine.name)
    return {"why": why, "choices": [_choice_line(t, c) for c in advice.choices]}


def _course(t: Translator, vaccine: Vaccine) -> str:
    if vaccine.doses == 1:
        return t("result.pick.one_dose")
    low, high = vaccine.interval_min_days, vaccine.interval_max_days
    if low % 7 == 0 and high % 7 == 0:
        return t("result.pick.weeks", low=low // 7, high=high // 7)
    return t("result.pick.days", low=low, high=high)


def _choice_line(t: Translator, choice: Choice) -> dict[str, str]:
    free = (
        t("result.pick.free", day=t.day(choice.first_free))
        if choice.first_free is not None
        else t("result.pick.none_free")
    )
    return {"vaccine": choice.vaccine.name, "course": _course(t, choice.vaccine), "free": free}
