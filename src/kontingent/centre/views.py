"""What the centre console's pages show, built from a day's visits: rows by hour, the
counters, the actions each row offers, and refusals in the page's language.

Invariants kept here:
- A row offers only what the use case would accept now (model.py): "vaccinated" for a
  person booked or checked in on today's list, "no-show" for a booked one whose start has
  passed; a final status offers nothing. The use case checks again on every POST.
- The counters count the whole day, whatever the search shows, so a search never makes the
  door's figures look wrong.
- A refusal's text comes from the console's own keys by the error's code; a code without
  one shows the use case's message (never an empty box).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from kontingent.centre import model
from kontingent.centre.model import Counters, Visit
from kontingent.errors import KontingentError, NotFound
from kontingent.i18n import N_, Translator
from kontingent.web import forms

if TYPE_CHECKING:
    from kontingent.centre.console import CentreConsole

STATUS_TEXT = {
    "booked": N_("centre.status.booked"),
    "checked_in": N_("centre.status.checked_in"),
    "vaccinated": N_("centre.status.vaccinated"),
    "no_show": N_("centre.status.no_show"),
    "cancelled": N_("centre.status.cancelled"),
}
REFUSALS = {
    "unknown_code": N_("centre.err.unknown_code"),
    "invalid_code": N_("centre.err.invalid_code"),
    "invalid_checkin": N_("centre.err.invalid_code"),
    "qr_malformed": N_("centre.err.qr_malformed"),
    "qr_not_genuine": N_("centre.err.qr_not_genuine"),
    "wrong_centre": N_("centre.err.wrong_centre"),
    "wrong_day": N_("centre.err.wrong_day"),
    "booking_cancelled": N_("centre.err.booking_cancelled"),
    "marked_no_show": N_("centre.err.marked_no_show"),
    "invalid_batch": N_("centre.err.invalid_batch"),
    "already_vaccinated": N_("centre.err.already_vaccinated"),
    "already_no_show": N_("centre.err.already_no_show"),
    "already_recorded": N_("centre.err.already_recorded"),
    "not_booked": N_("centre.err.not_booked"),
    "not_yet_due": N_("centre.err.not_yet_due"),
    "unknown_appointment": N_("centre.err.unknown_appointment"),
}
MAX_DAYS_AWAY = 400  # a date further off is a typo: today's list instead


def refusal(exc: KontingentError, t: Translator) -> str:
    key = REFUSALS.get(exc.code)
    return t(key) if key else next(iter(forms.messages(exc, t).values()))


def parse_day(text: str | None, today: date) -> date:
    """The `date` query parameter, or today when it is missing, not a date or far off."""
    try:
        on = date.fromisoformat(text or "")
    except ValueError:
        return today
    return on if abs((on - today).days) <= MAX_DAYS_AWAY else today


@dataclass(frozen=True, slots=True)
class Row:
    visit: Visit
    time: str
    status: str
    may_vaccinate: bool
    may_no_show: bool


@dataclass(frozen=True, slots=True)
class DayPage:
    centre_id: int
    centre: str
    title: str
    day: date
    day_text: str
    is_today: bool
    counters: Counters
    hours: list[tuple[str, list[Row]]]
    shown: int  # rows the search left
    previous: date
    next: date
    missed: int  # people "everyone not checked in" would mark now
    vaccines: dict[str, str]


def _row(visit: Visit, t: Translator, today: date, now: datetime) -> Row:
    on_its_day = visit.local_start.date() == today
    return Row(
        visit,
        t.time(visit.starts_at),
        t(STATUS_TEXT[visit.status]),
        on_its_day and visit.status in ("booked", "checked_in"),
        visit.status == "booked" and visit.starts_at <= now,
    )


async def day_page(
    console: CentreConsole, centre_id: int, on: date, visits: list[Visit], query: str
) -> DayPage:
    t = console.t
    catalogue = await console.services.inventory.catalogue()
    if centre_id not in catalogue.centres:
        raise NotFound(f"there is no centre {centre_id}", code="unknown_centre")
    centre = catalogue.centres[centre_id].name
    now = console.portal.now
    today = console.desk.today()
    shown = [v for v in visits if model.matches(v, query)]
    hours = [
        (t("centre.day.hour", hour=str(hour).zfill(2)), [_row(v, t, today, now) for v in group])
        for hour, group in model.by_hour(shown)
    ]
    return DayPage(
        centre_id, centre, t("centre.day.title", centre=centre), on, t.day(on), on == today,
        model.counters(visits), hours, len(shown), on - timedelta(days=1),
        on + timedelta(days=1), len(model.missed(visits, now)),
        {code: v.name for code, v in catalogue.vaccines.items()},
    )  # fmt: skip
