"""What the admin console's settings pages share: one request as the page sees it, reading
typed values from form text, and the domain's refusals worded for people.

Invariants kept here:
- Pages answer like the portal (web/page.py): every POST a 303, a failed round's messages
  and typed values carried to the GET page that shows them once, focus on the summary.
- Times are typed and shown in Europe/Berlin (`datetime-local`, minutes) and leave this
  module aware, so the database keeps UTC; a local time that does not exist (the spring
  gap) or exists twice (the autumn hour) is taken as the clock reads it first.
- A refusal names each field the domain named, in the page's language; text the form
  cannot turn into a value never reaches the use case.
- Every change is limited per admin (`admin_settings`) and audited with channel `browser`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from litestar import Request, Response

from kontingent.admin.campaign_service import Who
from kontingent.admin.home import AdminConsole
from kontingent.clock import BERLIN
from kontingent.errors import InvalidInput
from kontingent.i18n import N_
from kontingent.staff.audit import Actor, Channel
from kontingent.web.forms import FORM

AnyRequest = Request[Any, Any, Any]
NOTES = {
    "saved": N_("admin.note.saved"),
    "added": N_("admin.note.added"),
    "vaccine_added": N_("admin.note.vaccine_added"),
}
# What each field the domain may refuse asks for, in words for the page.
FIELD_TEXT = {
    "code": N_("admin.err.code"),
    "name": N_("admin.err.name"),
    "doses": N_("admin.err.doses"),
    "interval_min_days": N_("admin.err.interval_min"),
    "interval_max_days": N_("admin.err.interval_max"),
    "interval_recommended_days": N_("admin.err.interval_recommended"),
    "min_age": N_("admin.err.age"),
    "max_age": N_("admin.err.max_age"),
    "vaccines": N_("admin.err.vaccines"),
    "opens_at": N_("admin.err.minute"),
    "district_rule": N_("admin.err.district_rule"),
    "booking_from": N_("admin.err.minute"),
    "booking_until": N_("admin.err.window"),
    "waiting_room.mode": N_("admin.err.mode"),
    "waiting_room.opens_at": N_("admin.err.minute"),
    "waiting_room.rate": N_("admin.err.rate"),
    "phone_share_percent": N_("admin.err.percent"),
}
LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


class AdminPage(AdminConsole):
    """One request of a settings page: who acts, and the domain's refusals worded."""

    notes = NOTES

    async def who(self) -> Who:
        """Who acts, once the admin's limit allows one more change."""
        limits = self.services.limits
        await limits.enforce(self.request.scope, "admin_settings", self.principal.username)
        return Who(Actor.of(self.principal), Channel.browser, self.ip)

    def refused(self, page: str, exc: InvalidInput, values: Mapping[str, str]) -> Response[Any]:
        """The domain's refusal, each named field worded for the page."""
        return self.fail(page, self.refusal(exc), values)

    def refusal(self, exc: InvalidInput) -> dict[str, str]:
        """Field -> message of the domain's refusal, in the page's language."""
        named = exc.details.get("fields") or {FORM: exc.message}
        return {
            field: self.t(FIELD_TEXT[field]) if field in FIELD_TEXT else self.t("admin.err.form")
            for field in named
        }

    def saved(self, page: str, note: str = "saved") -> Response[Any]:
        return self.redirect(page, note=note)


class Reader:
    """Typed values from a form's text; each field that is no such value gets a message."""

    def __init__(self, values: Mapping[str, str], page: AdminPage) -> None:
        self.values = values
        self.t = page.t
        self.errors: dict[str, str] = {}

    def whole(self, name: str, *, optional: bool = False) -> int | None:
        text = self.values.get(name, "").strip()
        if not text and optional:
            return None
        try:
            return int(text)
        except ValueError:
            self.errors[name] = self.t("admin.err.whole_number")
            return None

    def decimal(self, name: str) -> float | None:
        try:
            return float(self.values.get(name, "").strip().replace(",", "."))
        except ValueError:
            self.errors[name] = self.t("admin.err.number")
            return None

    def minute(self, name: str, *, optional: bool = False) -> datetime | None:
        """A `datetime-local` value (Berlin), aware; empty: None where that is allowed."""
        text = self.values.get(name, "").strip()
        if not text and optional:
            return None
        try:
            return datetime.strptime(text, LOCAL_MINUTE).replace(tzinfo=BERLIN)
        except ValueError:
            self.errors[name] = self.t("admin.err.minute")
            return None


def local_minute(at: datetime | None) -> str:
    """The value of a `datetime-local` input: the minute in Berlin."""
    return "" if at is None else at.astimezone(BERLIN).strftime(LOCAL_MINUTE)
