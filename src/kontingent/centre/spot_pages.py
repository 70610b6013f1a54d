"""The centre console's page for the second dose on the spot: `/centre/{id}/second-dose`,
a form with both ways (a booking code, or the person's data and the first dose's), and the
slip to print (`/centre/{id}/second-dose/{code}`).

Invariants kept here:
- The page books through `SpotDesk.book` (centre/spot.py), the API's use case: no booking
  path of its own. Roles centre_staff (at their centres only: the guard reads the path's
  centre) and admin.
- Works without JavaScript: every POST answers 303; a refusal goes back to the form with
  the typed values kept and the messages in the page's language, the focus on the error
  summary; a fresh form has the cursor in the booking code. A double submit books once
  (the form carries an idempotency key).
- The slip shows only a booking of this centre; its print button is the one script of the
  console (`/static/centre-print.js`, allowed on that page alone); without script the page
  says how to print, and the print stylesheet leaves the slip alone on the paper.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath

from kontingent.booking.model import normalise_code
from kontingent.centre.spot import SpotDesk, SpotRequest
from kontingent.errors import KontingentError
from kontingent.i18n import N_, Translator
from kontingent.inventory.model import Vaccine
from kontingent.ratelimit.service import limited
from kontingent.staff.audit import Channel
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role
from kontingent.web import forms
from kontingent.web.page import HEADERS, Portal
from kontingent.web.views import door_ticket

AnyRequest = Request[Any, Any, Any]
TEMPLATES = Path(__file__).parent / "templates"
CENTRE = staff_only(Role.centre_staff, Role.admin, centre_param="centre_id")
PERSON_FIELDS = ("first_name", "last_name", "birth_date", "phone", "email", "first_dose_date",
                 "vaccine")  # fmt: skip
MAX_TYPED = 254
PRINT_CSP = HEADERS["Content-Security-Policy"].replace("script-src 'none'", "script-src 'self'")
# The desk's refusals in the page's words (the API's English message stays in the details).
REFUSALS = {
    "unknown_code": N_("centre.spot.err.unknown_code"),
    "first_dose_not_given": N_("centre.spot.err.first_dose_not_given"),
    "second_dose_held": N_("centre.spot.err.second_dose_held"),
    "first_dose_booked": N_("centre.spot.err.first_dose_booked"),
    "doses_complete": N_("centre.spot.err.doses_complete"),
    "no_second_dose_seat": N_("centre.spot.err.no_seat"),
    "outside_interval": N_("centre.spot.err.outside_interval"),
    "single_dose_vaccine": N_("centre.spot.err.single_dose"),
    "other_centre": N_("centre.spot.err.other_centre"),
    "wrong_centre": N_("centre.spot.err.other_centre"),
    "booking_cancelled": N_("centre.spot.err.booking_cancelled"),
    "slot_taken": N_("centre.spot.err.taken"),
    "already_booked": N_("centre.spot.err.already_booked"),
    "invalid_first_dose_date": N_("err.date.future"),
    "unknown_vaccine": N_("err.vaccine"),
}


def form_path(centre_id: int) -> str:
    return f"/centre/{centre_id}/second-dose"


async def _vaccines(portal: Portal) -> list[Vaccine]:
    catalogue = await portal.services.inventory.catalogue()
    return [v for v in catalogue.vaccines.values() if v.doses == 2]


@get("/centre/{centre_id:int}/second-dose", guards=[staff_guard], opt=CENTRE)
async def spot_form(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    portal = Portal(request)
    catalogue = await portal.services.inventory.catalogue()
    centre = catalogue.centres.get(centre_id)
    if centre is None:
        return portal.redirect("/staff")
    kept = portal.round_for(form_path(centre_id))
    values = kept.values if kept else {}
    return portal.render(
        "centre_spot.html", title=portal.t("centre.spot.title"), kept=kept, values=values,
        way=values.get("by", "code"), centre=centre, centre_id=centre.id,
        vaccines=await _vaccines(portal),
        request_id=secrets.token_urlsafe(16), principal=principal_of(request),
    )  # fmt: skip


@post(
    "/centre/{centre_id:int}/second-dose",
    guards=[staff_guard],
    opt={**CENTRE, **limited("second_dose")},
)
async def spot_book(request: AnyRequest, centre_id: FromPath[int]) -> Response[Any]:
    portal = Portal(request)
    form = await request.form()
    by = "person" if forms.text_of(form, "by") == "person" else "code"
    names = ("code",) if by == "code" else PERSON_FIELDS
    # Nothing valid is longer; the cut keeps a pasted novel out of the flow cookie.
    typed = {**{k: v[:MAX_TYPED] for k, v in forms.read(form, names).items()}, "by": by}
    done = await _book(portal, centre_id, by, typed, forms.text_of(form, "request_id"))
    if isinstance(done, str):
        return portal.redirect(f"{form_path(centre_id)}/{done}")
    return portal.fail(form_path(centre_id), done, typed)


async def _book(
    portal: Portal, centre_id: int, by: str, typed: dict[str, str], key: str
) -> str | dict[str, str]:
    """The new booking's code, or the messages by form field."""
    limits, staff = portal.services.limits, principal_of(portal.request)
    if by == "code":
        spot = SpotRequest(code=typed["code"], centre_id=centre_id)
    else:
        person = {k: typed[k] for k in PERSON_FIELDS}
        for name in ("birth_date", "first_dose_date"):
            person[name] = forms.iso_date(person[name])
        person["email"] = person["email"] or None  # type: ignore[assignment]
        spot = SpotRequest(centre_id=centre_id, language=portal.lang, **person)
    try:
        await limits.enforce(portal.request.scope, "second_dose", staff.username)
        ip = limits.address_of(portal.request.scope)
        booked = await SpotDesk.of(portal.services).book(
            staff, spot, key[:100] or None, Channel.browser, ip
        )
    except KontingentError as exc:
        return refusal(exc, portal.t)
    return booked.view.code


def refusal(exc: KontingentError, t: Translator) -> dict[str, str]:
    """A refusal of the desk as messages by form field, in the page's language."""
    fields = exc.details.get("fields")
    if isinstance(fields, dict) and fields:
        return {str(k): _field_text(str(k), str(v), t) for k, v in fields.items()}
    key = REFUSALS.get(exc.code)
    if key is None:
        return forms.messages(exc, t)
    field = exc.details.get("field")
    name = field if field in ("code", *PERSON_FIELDS) else forms.FORM
    said = {k: v for k, v in exc.details.items() if isinstance(v, str | int)}
    return {str(name): t(key, **{"day": "", "next_free": "", "until": "", **said})}


def _field_text(name: str, message: str, t: Translator) -> str:
    if name == "first_dose_date":
        if "missing" in message or not message.strip():
            return t("err.missing", label=t("centre.spot.field.first_dose_date"))
        return forms.describe("birth_date", message, t)  # the same date words
    if name == "phone":
        return t("centre.spot.err.mobile")
    return forms.describe(name, message, t)


@get(
    "/centre/{centre_id:int}/second-dose/{code:str}",
    guards=[staff_guard],
    opt=CENTRE,
)
async def spot_slip(
    request: AnyRequest, centre_id: FromPath[int], code: FromPath[str]
) -> Response[Any]:
    portal = Portal(request)
    canonical = normalise_code(code)
    services = portal.services
    view = None
    if canonical is not None:
        async with services.db.read() as conn:
            try:
                view = await services.booking.load(conn, canonical, None)
            except KontingentError:
                view = None
    if view is None or view.centre_id != centre_id:
        return portal.redirect(form_path(centre_id))
    catalogue = await services.inventory.catalogue()
    centre = catalogue.centres[centre_id]
    page = portal.render(
        "centre_spot_slip.html", title=portal.t("centre.spot.slip.title"), view=view,
        centre=centre, centre_id=centre.id, vaccine=catalogue.vaccines[view.vaccine],
        ticket=door_ticket(view, services.settings.secret_key, portal.t),
        when=[(view.persons[a.person], portal.t.when(a.starts_at)) for a in view.appointments],
        back=form_path(centre_id), principal=principal_of(request),
    )  # fmt: skip
    page.headers["Content-Security-Policy"] = PRINT_CSP
    return page


routes = [spot_form, spot_book, spot_slip]
