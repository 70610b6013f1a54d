"""The admin console's vaccine pages: `/admin/vaccines` (every vaccine, and the form that adds
one) and `/admin/vaccines/{code}` (change one).

Invariants kept here:
- Admins only; every change goes through `VaccineRules` (checked whole, audited, every
  process told) and is limited per admin.
- The page says that a new interval leaves bookings already made as they are.
- A change answers 303; a refusal comes back to the form with what was typed.
- Adding answers 303 to the list with a confirmation; a refusal answers the list page at
  once, its form holding what was typed with each field's message: 422 for a value that is
  wrong, 409 for a code in use. Nothing was written then, so the page is no round to keep.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from kontingent.admin.campaign_forms import AdminPage, AnyRequest, Reader
from kontingent.admin.campaign_routes import ADMINS, CHANGES
from kontingent.admin.vaccines_model import VaccineRule
from kontingent.admin.vaccines_routes import vaccine_rules
from kontingent.errors import Conflict, InvalidInput
from kontingent.staff.guards import staff_guard
from kontingent.web import forms

LIST = "/admin/vaccines"
FIELDS = ("name", "doses", "interval_min_days", "interval_recommended_days",
          "interval_max_days", "min_age", "max_age")  # fmt: skip
NEW_FIELDS = ("code", *FIELDS)
# The add form as it first shows: no interval unless one is typed, doses to be chosen.
BLANK = dict.fromkeys(NEW_FIELDS, "") | {"interval_min_days": "0", "interval_max_days": "0"}


def _shown(rule: VaccineRule) -> dict[str, str]:
    return {name: "" if (v := getattr(rule, name)) is None else str(v) for name in FIELDS}


async def _list(
    page: AdminPage, values: dict[str, str], errors: dict[str, str] | None = None, status: int = 200
) -> Response[Any]:
    found = await vaccine_rules(page.services).all()
    return page.render(
        "admin_vaccines.html", title=page.t("admin.vaccines.title"), vaccines=found,
        values=values, errors=errors, status=status,
    )  # fmt: skip


@get(LIST, guards=[staff_guard], opt=ADMINS)
async def vaccines_page(request: AnyRequest) -> Response[Any]:
    return await _list(AdminPage(request), dict(BLANK))


def _read(values: dict[str, str], read: Reader) -> dict[str, Any]:
    """The vaccine's fields from the form's text (each that is no number gets a message)."""
    return {
        "name": values["name"],
        "doses": read.whole("doses"),
        "interval_min_days": read.whole("interval_min_days"),
        "interval_max_days": read.whole("interval_max_days"),
        "interval_recommended_days": read.whole("interval_recommended_days", optional=True),
        "min_age": read.whole("min_age", optional=True),
        "max_age": read.whole("max_age", optional=True),
    }


@post(LIST, guards=[staff_guard], opt=CHANGES)
async def add_vaccine(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    values = forms.read(await request.form(), NEW_FIELDS)
    read = Reader(values, page)
    fields = _read(values, read)
    if not values["doses"]:  # no radio button chosen: say what to choose
        read.errors["doses"] = page.t("admin.err.doses")
    if read.errors:
        return await _list(page, forms.shown(values), read.errors, 422)
    try:
        rule = VaccineRule(values["code"], **fields)
        await vaccine_rules(page.services).add(rule, await page.who())
    except InvalidInput as exc:
        return await _list(page, forms.shown(values), page.refusal(exc), 422)
    except Conflict:
        errors = {"code": page.t("admin.err.code_exists", code=values["code"])}
        return await _list(page, forms.shown(values), errors, 409)
    return page.saved(LIST, "vaccine_added")


@get("/admin/vaccines/{code:str}", guards=[staff_guard], opt=ADMINS)
async def vaccine_page(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    page = AdminPage(request)
    rule = await vaccine_rules(page.services).one(code)
    kept = page.portal.round_for(f"/admin/vaccines/{code}")
    return page.render(
        "admin_vaccine.html", title=page.t("admin.vaccine.title", name=rule.name), vaccine=rule,
        kept=kept, values={**_shown(rule), **(kept.values if kept else {})},
    )  # fmt: skip


@post("/admin/vaccines/{code:str}", guards=[staff_guard], opt=CHANGES)
async def change_vaccine(request: AnyRequest, code: FromPath[str]) -> Response[Any]:
    page, here = AdminPage(request), f"/admin/vaccines/{code}"
    values = forms.read(await request.form(), FIELDS)
    read = Reader(values, page)
    changes = _read(values, read)
    if read.errors:
        return page.fail(here, read.errors, values)
    try:
        await vaccine_rules(page.services).change(code, changes, await page.who())
    except InvalidInput as exc:
        return page.refused(here, exc, values)
    return page.saved(here)


routes = [vaccines_page, add_vaccine, vaccine_page, change_vaccine]
