"""The release form of the admin pages: reading what was typed into a `ReleaseWish`, and the
service's refusals in the reader's words.

Invariants kept here:
- The same fields come from the form page (GET, for the confirmation), from the confirmation
  (POST, hidden) and back from a failed round, so what the admin confirmed is what is
  released: the confirmation shows the plan the service computed from exactly those values.
- Days are typed as 01.02.2026 (or 2026-02-01) and the minute as 08:00, both Europe/Berlin;
  only their form is checked here, every rule about them lives in releases_model.py.
- Every refusal becomes a message on the field it names (FORM for the rest), so nothing fails
  silently; the words come from the .po files, never from the service's English.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any

from kontingent.admin.releases_model import ReleaseWish
from kontingent.clock import BERLIN
from kontingent.errors import KontingentError
from kontingent.i18n import N_, Translator
from kontingent.web import forms
from kontingent.web.forms import FORM

FIELDS = ("vaccine", "centres", "first_day", "last_day", "when", "at_date", "at_time")
_TIME = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
# The form field each field of the service's refusals is typed into.
FORM_FIELD = {
    "vaccine": "vaccine",
    "centre_ids": "centres",
    "first_day": "first_day",
    "last_day": "last_day",
    "at": "at_time",
}
CODE_TEXT = {
    "unknown_vaccine": N_("admin.release.err.vaccine"),
    "unknown_centre": N_("admin.release.err.centre"),
    "nothing_to_release": N_("admin.release.err.nothing"),
    "release_too_large": N_("admin.release.err.too_large"),
    "slots_exist": N_("admin.release.err.slots_exist"),
    "release_done": N_("admin.release.err.release_done"),
    "release_cancelled": N_("admin.release.err.release_cancelled"),
    "release_started": N_("admin.release.err.release_started"),
    "no_campaign": N_("admin.release.err.no_campaign"),
}
REASON_TEXT = {
    "days_order": N_("admin.release.err.days_order"),
    "too_many_days": N_("admin.release.err.too_many_days"),
    "day_past": N_("admin.release.err.day_past"),
    "outside_window": N_("admin.release.err.outside_window"),
    "minute_offset": N_("admin.release.err.minute_past"),
    "minute_past": N_("admin.release.err.minute_past"),
    "minute_late": N_("admin.release.err.minute_late"),
    "no_centre": N_("admin.release.err.no_centre"),
    "share": N_("admin.release.err.share"),
}
LABELS = {
    "first_day": N_("admin.release.field.first_day"),
    "last_day": N_("admin.release.field.last_day"),
    "at_date": N_("admin.release.field.at_date"),
    "at_time": N_("admin.release.field.at_time"),
}


def defaults() -> dict[str, str]:
    return {name: "" for name in FIELDS} | {"centres": "all", "when": "now", "centre": ""}


def read_values(source: Any) -> dict[str, str]:
    """The form's values from a form or a query (`centre` repeated: the ids, comma-joined)."""
    values = {name: forms.text_of(source, name)[: forms.MAX_FIELD] for name in FIELDS}
    chosen = [v for v in source.getall("centre", []) if isinstance(v, str) and v.isdigit()]
    values["centre"] = ",".join(dict.fromkeys(v[:9] for v in chosen))
    return values


def centre_ids(values: Mapping[str, str]) -> list[int]:
    return [int(v) for v in values.get("centre", "").split(",") if v.isdigit()]


def wish_of(values: Mapping[str, str], t: Translator) -> tuple[ReleaseWish | None, dict[str, str]]:
    """The wish the values ask for, or the fields to fix before any rule is asked."""
    errors: dict[str, str] = {}
    if not values.get("vaccine"):
        errors["vaccine"] = t("admin.release.err.choose_vaccine")
    if values.get("centres") == "chosen" and not centre_ids(values):
        errors["centres"] = t("admin.release.err.no_centre")
    days = {name: _day(values, name, t, errors) for name in ("first_day", "last_day")}
    at = _minute(values, t, errors) if values.get("when") == "at" else None
    if errors or days["first_day"] is None or days["last_day"] is None:
        return None, errors
    chosen = tuple(sorted(set(centre_ids(values)))) if values.get("centres") == "chosen" else None
    return ReleaseWish(values["vaccine"], chosen, days["first_day"], days["last_day"], at), {}


def _day(
    values: Mapping[str, str], name: str, t: Translator, errors: dict[str, str]
) -> date | None:
    text = values.get(name, "")
    if not text:
        errors[name] = t("err.missing", label=t(LABELS[name]))
        return None
    try:
        return date.fromisoformat(forms.iso_date(text))
    except ValueError:
        errors[name] = t("admin.release.err.day_format", label=t(LABELS[name]))
        return None


def _minute(values: Mapping[str, str], t: Translator, errors: dict[str, str]) -> datetime | None:
    day = _day(values, "at_date", t, errors)
    found = _TIME.match(values.get("at_time", ""))
    if found is None:
        errors["at_time"] = t("admin.release.err.time_format")
        return None
    if day is None:
        return None
    return datetime.combine(day, time(int(found.group(1)), int(found.group(2))), BERLIN)


def refusal(exc: KontingentError, t: Translator, names: Mapping[int, str]) -> dict[str, str]:
    """The service's refusal as a message on the form field it is about."""
    field = FORM_FIELD.get(str(exc.details.get("field", "")), FORM)
    if exc.code == "contingent_overlap":
        return {field: t("admin.release.err.overlap", which=_overlaps(exc, t, names))}
    key = CODE_TEXT.get(exc.code)
    if exc.code == "invalid_release":
        key = REASON_TEXT.get(str(exc.details.get("reason")))
    if key is None:
        return forms.messages(exc, t, field)
    values = {k: v for k, v in exc.details.items() if k not in ("field", "reason")}
    for name in ("today", "first", "last"):
        if isinstance(values.get(name), str):
            values[name] = t.birth_date(date.fromisoformat(str(values[name])))
    return {field: t(key, **values)}


def _overlaps(exc: KontingentError, t: Translator, names: Mapping[int, str]) -> str:
    found = exc.details.get("overlaps") or []
    return t.join(
        [
            t(
                "admin.release.overlap_item",
                centre=names.get(o["centre_id"], str(o["centre_id"])),
                first=t.birth_date(date.fromisoformat(o["first_day"])),
                last=t.birth_date(date.fromisoformat(o["last_day"])),
            )
            for o in found[:5]
        ]
    )
