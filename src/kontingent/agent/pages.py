"""The agent console's search and booking screens: /agent, its results, one booking, and
the page that asks before cancelling it (the cancellation itself: agent/changes.py).

Invariants kept here:
- Every page is for agents (and admins) only (`staff_only`); every look at a booking goes
  through `AgentDesk.find`, which audits it in the transaction that reads it.
- The search terms (a name, a birth date, a phone number) never go into a URL: the search
  form posts them, the desk cookie carries them to the results page (303).
- Cancelling takes two steps: the booking screen's button leads to a page that asks
  "really?", and only its POST acts; a booking already cancelled offers no button.
- Every POST answers 303; a refusal comes back to the form's page with what was typed.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from kontingent.agent.console import CHANNEL, AnyRequest, Console
from kontingent.agent.service import Search
from kontingent.agent.views import BookingScreen, booking_screen
from kontingent.booking.model import normalise_code
from kontingent.booking.service import BookingView
from kontingent.errors import KontingentError
from kontingent.i18n import N_
from kontingent.ratelimit.service import limited, unlimited
from kontingent.staff.guards import staff_guard, staff_only
from kontingent.staff.model import Role
from kontingent.web import forms

TEMPLATES = Path(__file__).parent / "templates"
AGENTS = staff_only(Role.agent, Role.admin)
SEARCH_FIELDS = ("code", "last_name", "birth_date", "phone")
WAYS = {"code": ("code",), "name": ("last_name", "birth_date"), "phone": ("phone",)}
FIELD_LABELS = {
    "code": N_("field.code"),
    "last_name": N_("field.last_name"),
    "birth_date": N_("field.birth_date"),
    "phone": N_("agent.field.phone"),
}


def _missing(console: Console, values: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    t = console.t
    return {n: t("err.missing", label=t(FIELD_LABELS[n])) for n in names if not values.get(n)}


@get("/agent", guards=[staff_guard], opt=AGENTS)
async def start(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    kept = console.portal.round_for("/agent")
    values = {name: "" for name in SEARCH_FIELDS}
    return console.render(
        "agent_start.html",
        title=console.t("agent.start.title"),
        kept=kept,
        values={**values, **(kept.values if kept else {})},
        way=(kept.values.get("by") if kept else None) or "code",
    )


@post(
    "/agent",
    guards=[staff_guard],
    opt={**AGENTS, **unlimited("keeps the search for its results page, which is limited")},
)
async def search(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    form = await request.form()
    way = forms.text_of(form, "by")
    if way not in WAYS:
        way = "code"
    values = forms.read(form, WAYS[way])
    errors = forms.too_long(values, console.t) or _missing(console, values, WAYS[way])
    if way == "code" and not errors and normalise_code(values["code"]) is None:
        errors = {"code": console.t("err.invalid_code")}
    if way == "name" and not errors and _date(values["birth_date"]) is None:
        errors = {"birth_date": console.t("err.date.format")}
    if errors:
        return console.fail("/agent", errors, {**values, "by": way})
    console.save(search={"by": way, **values})
    return console.redirect("/agent/found")


def _date(text: str) -> date | None:
    """A birth date as typed (01.05.1939 or 1939-05-01), or None if it is no date."""
    try:
        return date.fromisoformat(forms.iso_date(text))
    except ValueError:
        return None


def _search_of(terms: dict[str, str]) -> Search:
    return Search(
        code=terms.get("code") or None,
        last_name=terms.get("last_name") or None,
        birth_date=_date(terms.get("birth_date", "")),
        phone=terms.get("phone") or None,
    )


@get("/agent/found", guards=[staff_guard], opt={**AGENTS, **limited("agent_lookup")})
async def found(request: AnyRequest) -> Response[Any]:
    console = Console(request)
    terms = console.desk.search
    if not terms:
        return console.redirect("/agent")
    try:
        views = await _find(console, _search_of(terms))
    except KontingentError as exc:
        return _search_refused(console, terms, exc)
    catalogue = await console.services.inventory.catalogue()
    if len(views) == 1:  # shown here: a redirect to its screen would look it up (and log) twice
        return _booking_page(console, booking_screen(views[0], catalogue, console.t))
    screens = [booking_screen(v, catalogue, console.t) for v in views]
    return console.render("agent_found.html", title=console.t("agent.found.title"), screens=screens)


def _search_refused(console: Console, terms: dict[str, str], exc: KontingentError) -> Response[Any]:
    fields = WAYS.get(terms.get("by", ""), ("code",))
    errors = forms.messages(exc, console.t, fields[-1])
    if exc.code == "invalid_phone":  # any number, where the portal's words ask for a mobile
        errors = {"phone": console.t("agent.err.phone")}
    console.save(search=None)
    return console.fail("/agent", errors, terms)


async def _find(console: Console, search: Search) -> list[BookingView]:
    username = console.principal.username
    await console.services.limits.enforce(console.request.scope, "agent_lookup", username)
    return await console.agent_desk.find(console.principal, search, CHANNEL, console.ip)


async def one_booking(console: Console, code: str) -> BookingView | None:
    found = await _find(console, Search(code=code))
    return found[0] if found else None


@get("/agent/bookings/{code:str}", guards=[staff_guard], opt={**AGENTS, **limited("agent_lookup")})
async def booking(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    console = Console(request)
    normal = normalise_code(code)
    view = await one_booking(console, normal) if normal else None
    if view is None:
        key = "err.booking_not_found" if normal else "err.invalid_code"
        return console.fail("/agent", {"code": console.t(key)}, {"code": code[:20], "by": "code"})
    catalogue = await console.services.inventory.catalogue()
    return _booking_page(console, booking_screen(view, catalogue, console.t))


def _booking_page(console: Console, screen: BookingScreen) -> Response[Any]:
    return console.render(
        "agent_booking.html", title=console.t("agent.booking.title"), screen=screen
    )


@get(
    "/agent/bookings/{code:str}/cancel",
    guards=[staff_guard],
    opt={**AGENTS, **limited("agent_lookup")},
)
async def cancel_confirm(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    console = Console(request)
    view = await one_booking(console, normalise_code(code) or "")
    if view is None or view.status != "booked":
        return console.redirect(f"/agent/bookings/{code}")
    catalogue = await console.services.inventory.catalogue()
    screen = booking_screen(view, catalogue, console.t)
    kept = console.portal.round_for(f"/agent/bookings/{view.code}/cancel")
    return console.render(
        "agent_cancel.html", title=console.t("agent.cancel.title"), screen=screen, kept=kept
    )


routes = [start, search, found, booking, cancel_confirm]
