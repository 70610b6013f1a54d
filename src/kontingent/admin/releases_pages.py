"""The admin pages of contingent releases: /admin/releases (the form and the history), its
confirmation, one release, and withdrawing a scheduled one.

Invariants kept here:
- For admins only (`staff_only(Role.admin)`); no script anywhere: the form's GET leads to the
  confirmation, which shows what the service would make per centre (slots, seats, seats for
  the phone) and carries the same values, hidden, to the POST that releases.
- Every POST answers 303; a refusal comes back to the form's page with what was typed and the
  message on its field. Scheduling and withdrawing are limited per admin (`admin_release`)
  and audited by the service with the channel `browser`.
- Withdrawing takes two steps (a page that asks, then its POST), and is offered only for a
  scheduled release before its minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from kontingent.admin.home import render
from kontingent.admin.releases_forms import defaults, read_values, refusal, wish_of
from kontingent.admin.releases_repository import Release
from kontingent.admin.releases_service import Planned
from kontingent.errors import KontingentError
from kontingent.i18n import N_, Translator
from kontingent.inventory.repository import Catalogue
from kontingent.ratelimit.service import limited
from kontingent.staff.audit import Actor, Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role
from kontingent.web.page import Portal

AnyRequest = Request[Any, Any, Any]
ADMIN = staff_only(Role.admin)
PAGE = "/admin/releases"
STATUS_TEXT = {
    "scheduled": N_("admin.release.status.scheduled"),
    "done": N_("admin.release.status.done"),
    "cancelled": N_("admin.release.status.cancelled"),
}
NOTES = {
    "scheduled": N_("admin.release.note.scheduled"),
    "done": N_("admin.release.note.done"),
    "cancelled": N_("admin.release.note.cancelled"),
}


@dataclass(frozen=True, slots=True)
class CentreRow:
    name: str
    slots: str
    seats: str
    phone_seats: str


@dataclass(frozen=True, slots=True)
class ReleaseView:
    id: int
    status: str
    status_text: str
    vaccine: str
    centres: str
    days: str
    at: str
    created: str
    created_by: str
    executed: str
    cancelled: str
    slots: str
    seats: str
    phone_seats: str
    rows: list[CentreRow]
    cancellable: bool


def view_of(r: Release, catalogue: Catalogue, t: Translator, now: Any) -> ReleaseView:
    names = {c.id: c.name for c in catalogue.centres.values()}
    vaccine = catalogue.vaccines.get(r.vaccine_code)
    centres = (
        t("admin.release.all_centres")
        if r.all_centres
        else t.join([names.get(c.centre_id, str(c.centre_id)) for c in r.centres])
    )
    rows = [
        CentreRow(names.get(c.centre_id, str(c.centre_id)), t.number(c.slots),
                  t.number(c.seats), t.number(c.phone_seats))
        for c in r.centres
    ]  # fmt: skip
    return ReleaseView(
        r.id, r.status, t(STATUS_TEXT[r.status]), vaccine.name if vaccine else r.vaccine_code,
        centres, _days(r, t), t.when(r.release_at), t.when(r.created_at), r.created_by,
        t.when(r.executed_at) if r.executed_at else "", t.when(r.cancelled_at)
        if r.cancelled_at else "", t.number(r.slots), t.number(r.seats),
        t.number(r.phone_seats), rows, r.status == "scheduled" and r.release_at > now,
    )  # fmt: skip


def _days(r: Release, t: Translator) -> str:
    first, last = t.birth_date(r.first_day), t.birth_date(r.last_day)
    return first if first == last else t("admin.release.days", first=first, last=last)


async def _form_page(
    portal: Portal, values: dict[str, str], errors: dict[str, str] | None = None
) -> Response[Any]:
    catalogue = await portal.services.inventory.catalogue()
    page, _ = await portal.services.releases.history(limit=50)
    views = [view_of(r, catalogue, portal.t, portal.now) for r in page]
    kept = portal.round_for(PAGE)
    return render(
        portal, portal.request,
        "admin_releases.html", title=portal.t("admin.release.title"),
        status=422 if errors else 200, errors=errors, kept=kept,
        values={**values, **(kept.values if kept else {})}, history=views,
        vaccines=sorted(catalogue.vaccines.values(), key=lambda v: v.name),
        centres=sorted(catalogue.centres.values(), key=lambda c: c.name),
        notice=_note(portal),
    )  # fmt: skip


def _note(portal: Portal) -> str | None:
    key = NOTES.get(portal.request.query_params.get("note", ""))
    return portal.t(key) if key else None


@get(PAGE, guards=[staff_guard], opt=ADMIN)
async def releases_page(request: AnyRequest) -> Response[Any]:
    return await _form_page(Portal(request), defaults())


async def _names(portal: Portal) -> dict[int, str]:
    catalogue = await portal.services.inventory.catalogue()
    return {c.id: c.name for c in catalogue.centres.values()}


@get(f"{PAGE}/confirm", guards=[staff_guard], opt=ADMIN)
async def confirm(request: AnyRequest) -> Response[Any]:
    """What the release would make, asking to go ahead: computed, nothing written."""
    portal = Portal(request)
    values = read_values(request.query_params)
    wish, errors = wish_of(values, portal.t)
    if wish is None:
        return await _form_page(portal, values, errors)
    try:
        planned = await portal.services.releases.plan(wish)
    except KontingentError as exc:
        return await _form_page(portal, values, refusal(exc, portal.t, await _names(portal)))
    catalogue = await portal.services.inventory.catalogue()
    return render(
        portal, portal.request,
        "admin_release_confirm.html", title=portal.t("admin.release.confirm.title"),
        values=values, plan=_plan_rows(planned, portal.t), vaccine=catalogue.vaccines[wish.vaccine],
        at=portal.t.when(planned.at), now=wish.at is None,
        days=portal.t("admin.release.days", first=portal.t.birth_date(wish.first_day),
                      last=portal.t.birth_date(wish.last_day)),
        total=CentreRow("", portal.t.number(planned.slots), portal.t.number(planned.seats),
                        portal.t.number(sum(p.phone_seats for p in planned.plans))),
    )  # fmt: skip


def _plan_rows(planned: Planned, t: Translator) -> list[CentreRow]:
    return [
        CentreRow(p.name, t.number(p.slots), t.number(p.seats), t.number(p.phone_seats))
        for p in planned.plans
    ]


@post(PAGE, guards=[staff_guard], opt={**ADMIN, **limited("admin_release")})
async def release(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    values = read_values(await request.form())
    wish, errors = wish_of(values, portal.t)
    if wish is None:
        return portal.fail(PAGE, errors, values)
    services = portal.services
    principal = principal_of(request)
    try:
        await services.limits.enforce(request.scope, "admin_release", principal.username)
        ip = services.limits.address_of(request.scope)
        made = await services.releases.schedule(Actor.of(principal), wish, Channel.browser, ip)
    except KontingentError as exc:
        return portal.fail(PAGE, refusal(exc, portal.t, await _names(portal)), values)
    return portal.redirect(f"{PAGE}/{made.id}", note=made.status)


async def _one(portal: Portal, release_id: int, template: str, title: str) -> Response[Any]:
    found = await portal.services.releases.get(release_id)
    catalogue = await portal.services.inventory.catalogue()
    kept = portal.round_for(f"{PAGE}/{release_id}")
    return render(
        portal, portal.request,
        template, title=portal.t(title), kept=kept, notice=_note(portal),
        release=view_of(found, catalogue, portal.t, portal.now),
    )  # fmt: skip


@get(f"{PAGE}/{{release_id:int}}", guards=[staff_guard], opt=ADMIN)
async def one_release(request: AnyRequest, release_id: FromPath[int]) -> Response[Any]:
    return await _one(
        Portal(request), release_id, "admin_release.html", N_("admin.release.one.title")
    )


@get(f"{PAGE}/{{release_id:int}}/cancel", guards=[staff_guard], opt=ADMIN)
async def cancel_confirm(request: AnyRequest, release_id: FromPath[int]) -> Response[Any]:
    portal = Portal(request)
    found = await portal.services.releases.get(release_id)
    if found.status != "scheduled" or found.release_at <= portal.now:
        return portal.redirect(f"{PAGE}/{release_id}")
    return await _one(
        portal, release_id, "admin_release_cancel.html", N_("admin.release.cancel.title")
    )


@post(
    f"{PAGE}/{{release_id:int}}/cancel",
    guards=[staff_guard],
    opt={**ADMIN, **limited("admin_release")},
)
async def cancel(request: AnyRequest, release_id: FromPath[int]) -> Response[Any]:
    portal = Portal(request)
    services = portal.services
    principal = principal_of(request)
    try:
        await services.limits.enforce(request.scope, "admin_release", principal.username)
        ip = services.limits.address_of(request.scope)
        await services.releases.cancel(Actor.of(principal), release_id, Channel.browser, ip)
    except KontingentError as exc:
        if exc.code == "release_not_found":
            raise
        return portal.fail(f"{PAGE}/{release_id}", refusal(exc, portal.t, {}))
    return portal.redirect(f"{PAGE}/{release_id}", note="cancelled")


routes = [releases_page, confirm, release, one_release, cancel_confirm, cancel]
