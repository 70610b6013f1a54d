"""The admin's centre pages: the list, a new centre, one centre's settings, and the two
pages that say what a change or a closure will do before it is done.

Invariants kept here:
- Looking never changes anything: the edit form and the closure form are GET forms that
  lead to a page saying what would happen (slots added, removed, kept because booked; the
  bookings of the day to close), made by the use case's own dry run. Only the POST of that
  page acts, through the same use cases as the API (audited, limited per admin).
- Every POST answers 303: done, to the centre's page saying so; refused, back to the form
  with the messages by field and what was typed.
- Works without JavaScript; every control is a link, a button or a form field.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from kontingent.admin import centres_forms as cf
from kontingent.admin.centres_closures import DayClosures
from kontingent.admin.centres_model import MAX_REASON, WEEKDAYS
from kontingent.admin.centres_service import AdminCentres, By, Outcome
from kontingent.admin.home import ADMINS, AdminConsole, AnyRequest
from kontingent.errors import InvalidInput, KontingentError
from kontingent.i18n import N_
from kontingent.ratelimit.service import limited
from kontingent.staff.audit import Actor, Channel
from kontingent.staff.guards import staff_guard
from kontingent.web import forms

ACTION = "admin_centres"
NOTES = {
    "created": N_("admin.centres.note.created"),
    "saved": N_("admin.centres.note.saved"),
    "closed": N_("admin.centres.note.closed"),
    "opened": N_("admin.centres.note.opened"),
}


class FormProblem(InvalidInput):
    """A refusal of the page itself, its message already in the page's language."""


CLOSURE_TEXTS = {
    "closures.add.day": N_("admin.centres.err.past"),
    "closures.add.reason": N_("admin.centres.err.reason"),
}


class Page(AdminConsole):
    """One request of the centre pages: the console's machinery and who acts."""

    notes = NOTES

    def __init__(self, request: AnyRequest) -> None:
        super().__init__(request)
        self.by = By(Actor.of(self.principal), Channel.browser, self.ip)
        self.centres = AdminCentres.of(self.services)

    async def limit(self) -> None:
        await self.services.limits.enforce(self.request.scope, ACTION, self.by.actor.username)


@get("/admin/centres", guards=[staff_guard], opt=ADMINS)
async def centre_list(request: AnyRequest) -> Response[Any]:
    page = Page(request)
    listed = await page.centres.list()
    return page.render("admin_centres.html", page.t("admin.centres.title"), centres=listed)


@get("/admin/centres/new", guards=[staff_guard], opt=ADMINS)
async def new_form(request: AnyRequest) -> Response[Any]:
    page = Page(request)
    kept = page.portal.round_for("/admin/centres/new")
    values = {**cf.values_from(None), **(kept.values if kept else {})}
    return page.render("admin_centre_new.html", page.t("admin.centres.new.title"), kept=kept,
                       values=values, days=_days())  # fmt: skip


@post("/admin/centres/new", guards=[staff_guard], opt={**ADMINS, **limited(ACTION)})
async def create(request: AnyRequest) -> Response[Any]:
    page = Page(request)
    form = await request.form()
    values = cf.values_of(form)
    try:
        if not cf.is_whole(form):
            raise FormProblem(page.t("admin.centres.err.form"))
        await page.limit()
        view = await page.centres.create(cf.fields_of(values), page.by)
    except KontingentError as exc:
        return page.portal.fail("/admin/centres/new", _messages(exc, page), values)
    return page.portal.redirect(f"/admin/centres/{view.id}", note="created")


@get("/admin/centres/{centre_id:int}", guards=[staff_guard], opt=ADMINS)
async def edit_form(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    page = Page(request)
    view = await page.centres.get(centre_id)
    kept = page.portal.round_for(f"/admin/centres/{centre_id}")
    values = {**cf.values_from(view), **(kept.values if kept else {})}
    return await _edit_page(page, view, values, kept=kept)


async def _edit_page(
    page: Page, view: Any, values: dict[str, str], **context: Any
) -> Response[Any]:
    closures = DayClosures.of(page.services)
    closed = [(c, len(await closures.bookings_on(view.id, c.day))) for c in view.closures]
    context.setdefault("closure", {"day": "", "reason": ""})
    return page.render(
        "admin_centre.html", page.t("admin.centres.edit.title", name=view.name), centre=view,
        values=values, days=_days(), closed=closed, **context,
    )  # fmt: skip


@get("/admin/centres/{centre_id:int}/check", guards=[staff_guard], opt=ADMINS)
async def check_change(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    """What the edit form's change would do, asked before it is done (a dry run)."""
    page = Page(request)
    view = await page.centres.get(centre_id)
    query = request.query_params
    values = cf.values_of(query)
    try:
        if not cf.is_whole(query):
            raise FormProblem(page.t("admin.centres.err.form"))
        fields = cf.fields_of(values)
        outcome = await page.centres.change(centre_id, fields, page.by, dry_run=True)
    except KontingentError as exc:
        return await _edit_page(page, view, values, errors=_messages(exc, page))
    hidden = {k: v for k, v in values.items() if v}
    return page.render("admin_centre_check.html", page.t("admin.centres.check.title"),
                       centre=view, effect=_effect(outcome), hidden=hidden)  # fmt: skip


@post("/admin/centres/{centre_id:int}", guards=[staff_guard], opt={**ADMINS, **limited(ACTION)})
async def save(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    page = Page(request)
    form = await request.form()
    values = cf.values_of(form)
    try:
        if not cf.is_whole(form):
            raise FormProblem(page.t("admin.centres.err.form"))
        await page.limit()
        await page.centres.change(centre_id, cf.fields_of(values), page.by)
    except KontingentError as exc:
        return page.portal.fail(f"/admin/centres/{centre_id}", _messages(exc, page), values)
    return page.portal.redirect(f"/admin/centres/{centre_id}", note="saved")


@get("/admin/centres/{centre_id:int}/closure", guards=[staff_guard], opt=ADMINS)
async def check_closure(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    """The day to close and the bookings it would cancel, asked before it is done."""
    page = Page(request)
    view = await page.centres.get(centre_id)
    closure = {k: forms.text_of(request.query_params, k)[:200] for k in ("day", "reason")}
    closures = DayClosures.of(page.services)
    try:
        day = _day(closure["day"], page)
        closures.check_day(day, closure["reason"])
        found = await closures.bookings_on(centre_id, day)
    except KontingentError as exc:
        errors = {"day": _messages(exc, page).popitem()[1]}
        return await _edit_page(page, view, cf.values_from(view), errors=errors, closure=closure)
    return page.render("admin_centre_closure.html", page.t("admin.centres.closure.title"),
                       centre=view, day=day, reason=closure["reason"], bookings=found)  # fmt: skip


@post(
    "/admin/centres/{centre_id:int}/closures",
    guards=[staff_guard],
    opt={**ADMINS, **limited(ACTION)},
)
async def close(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    page = Page(request)
    form = await request.form()
    closure = {k: forms.text_of(form, k)[:200] for k in ("day", "reason")}
    try:
        day = _day(closure["day"], page)
        await page.limit()
        await DayClosures.of(page.services).close(centre_id, day, closure["reason"], page.by)
    except KontingentError as exc:
        errors = {"day": _messages(exc, page).popitem()[1]}
        return page.portal.fail(f"/admin/centres/{centre_id}", errors)
    return page.portal.redirect(f"/admin/centres/{centre_id}", note="closed")


@post(
    "/admin/centres/{centre_id:int}/closures/open",
    guards=[staff_guard],
    opt={**ADMINS, **limited(ACTION)},
)
async def reopen(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    page = Page(request)
    form = await request.form()
    try:
        day = _day(forms.text_of(form, "day"), page)
        await page.limit()
        await DayClosures.of(page.services).open(centre_id, day, page.by)
    except KontingentError as exc:
        return page.portal.fail(f"/admin/centres/{centre_id}", _messages(exc, page))
    return page.portal.redirect(f"/admin/centres/{centre_id}", note="opened")


def _day(text: str, page: Page) -> date:
    try:
        return date.fromisoformat(forms.iso_date(text))
    except ValueError:
        raise FormProblem(page.t("admin.centres.err.day"), field="day") from None


def _messages(exc: KontingentError, page: Page) -> dict[str, str]:
    if isinstance(exc, FormProblem):
        return {str(exc.details.get("field", forms.FORM)): exc.message}
    if isinstance(exc, InvalidInput) and "problems" in exc.details:
        return cf.messages(exc, page.t)
    key = CLOSURE_TEXTS.get(str(exc.details.get("field")))
    if key is not None:
        return {"day": page.t(key, max=MAX_REASON)}
    return forms.messages(exc, page.t)


def _days() -> list[tuple[str, str]]:
    return list(zip(WEEKDAYS, cf.DAY_NAMES, strict=True))


def _effect(outcome: Outcome) -> dict[str, int]:
    return dict(outcome.slots)


routes = [centre_list, new_form, create, edit_form, check_change, save, check_closure, close,
          reopen]  # fmt: skip
