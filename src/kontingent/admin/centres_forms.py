"""The centres' form on the admin pages: what a form sends, as the use case's fields, and
the use case's problems as messages next to the fields that caused them.

Invariants kept here:
- A form is read only when it is whole: every field of the centre is in it (a browser
  sends them all, an empty one too). A request without them changes nothing, so a stray
  POST cannot close every weekday of a centre.
- Hours come as a checkbox "open" per weekday and two times; a weekday not ticked is closed.
- A number that is not one is a problem of its field, in the words the use case uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kontingent.admin.centres_model import MAX_LANES, SLOT_MINUTES, WEEKDAYS, Problem
from kontingent.admin.centres_service import CentreFields, CentreView, refuse
from kontingent.errors import InvalidInput
from kontingent.i18n import N_, Translator
from kontingent.web.forms import FORM, text_of

TEXTS = ("name", "street", "postcode", "city", "lanes", "slot_minutes")
DAY_NAMES = (
    N_("admin.centres.day.monday"),
    N_("admin.centres.day.tuesday"),
    N_("admin.centres.day.wednesday"),
    N_("admin.centres.day.thursday"),
    N_("admin.centres.day.friday"),
    N_("admin.centres.day.saturday"),
    N_("admin.centres.day.sunday"),
)
MAX_FIELD = 200


def day_fields() -> list[str]:
    return [f"{part}_{day}" for day in WEEKDAYS for part in ("open", "opens", "closes")]


def is_whole(form: Mapping[str, Any]) -> bool:
    return all(name in form for name in TEXTS)


def values_of(form: Mapping[str, Any]) -> dict[str, str]:
    """Every field of the form as text (a ticked box as "1"), cut to what a field holds."""
    return {name: text_of(form, name)[:MAX_FIELD] for name in (*TEXTS, *day_fields())}


def values_from(view: CentreView | None) -> dict[str, str]:
    """The form's values for a centre as it is (None: a new one, open Monday to Saturday)."""
    if view is None:
        week = {d: ("08:00", "20:00") for d in range(6)}
        values = dict.fromkeys(TEXTS, "")
    else:
        week = {d: (f"{h.opens:%H:%M}", f"{h.closes:%H:%M}") for d, h in view.hours.items()}
        values = {name: str(getattr(view, name)) for name in TEXTS}
    for i, day in enumerate(WEEKDAYS):
        opens, closes = week.get(i, ("", ""))
        values |= {f"open_{day}": "1" if i in week else "", f"opens_{day}": opens,
                   f"closes_{day}": closes}  # fmt: skip
    return values


def fields_of(values: Mapping[str, str]) -> CentreFields:
    """The use case's fields, or InvalidInput for numbers that are not numbers."""
    numbers, problems = {}, []
    for name, key in (("lanes", "admin.centres.err.lanes"),
                      ("slot_minutes", "admin.centres.err.slot_minutes")):  # fmt: skip
        text = values.get(name, "")
        if text.isdigit() and len(text) < 5:
            numbers[name] = int(text)
        else:
            lo, hi = (1, MAX_LANES) if name == "lanes" else SLOT_MINUTES
            problems.append(Problem(name, key, {"min": lo, "max": hi}))
    if problems:
        raise refuse(problems)
    hours = {
        i: (values.get(f"opens_{day}", ""), values.get(f"closes_{day}", ""))
        for i, day in enumerate(WEEKDAYS)
        if values.get(f"open_{day}")
    }
    return CentreFields(
        values.get("name", ""), values.get("street", ""), values.get("postcode", ""),
        values.get("city", ""), None, None, numbers["lanes"], numbers["slot_minutes"], hours,
    )  # fmt: skip


def form_field(path: str) -> str:
    """The form field of a problem's field (`hours.monday.closes` -> `closes_monday`)."""
    parts = path.split(".")
    if parts[0] != "hours" or len(parts) < 2:
        return path if path in TEXTS else FORM
    return f"{parts[2] if len(parts) > 2 else 'opens'}_{parts[1]}"


def messages(exc: InvalidInput, t: Translator) -> dict[str, str]:
    """The messages of a refusal by form field, in the page's language."""
    found: dict[str, str] = {}
    for problem in exc.details.get("problems", []):
        params = {**problem["params"]}
        if "day" in params:
            params["day"] = t(DAY_NAMES[WEEKDAYS.index(params["day"])])
        found.setdefault(form_field(problem["field"]), t(problem["key"], **params))
    return found or {FORM: exc.message}
