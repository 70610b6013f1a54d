"""The admin console's vaccine pages: `/admin/vaccines` (every vaccine) and
`/admin/vaccines/{code}` (change one). New vaccines come through the API.

Invariants kept here:
- Admins only; every change goes through `VaccineRules` (checked whole, audited, every
  process told) and is limited per admin.
- The page says that a new interval leaves bookings already made as they are.
- Every POST answers 303; a refusal comes back to the form with what was typed.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from kontingent.admin.campaign_forms import AdminPage, AnyRequest, Reader
from kontingent.admin.campaign_routes import ADMINS, CHANGES
from kontingent.admin.vaccines_model import VaccineRule
from kontingent.admin.vaccines_routes import vaccine_rules
from kontingent.errors import InvalidInput
from kontingent.staff.guards import staff_guard
from kontingent.web import forms

FIELDS = ("name", "doses", "interval_min_days", "interval_recommended_days",
          "interval_max_days", "min_age", "max_age")  # fmt: skip


def _shown(rule: VaccineRule) -> dict[str, str]:
    return {name: "" if (v := getattr(rule, name)) is None else str(v) for name in FIELDS}


@get("/admin/vaccines", guards=[staff_guard], opt=ADMINS)
async def vaccines_page(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    found = await vaccine_rules(page.services).all()
    return page.render("admin_vaccines.html", title=page.t("admin.vaccines.title"), vaccines=found)


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
    changes = {
        "name": values["name"],
        "doses": read.whole("doses"),
        "interval_min_days": read.whole("interval_min_days"),
        "interval_max_days": read.whole("interval_max_days"),
        "interval_recommended_days": read.whole("interval_recommended_days", optional=True),
        "min_age": read.whole("min_age", optional=True),
        "max_age": read.whole("max_age", optional=True),
    }
    if read.errors:
        return page.fail(here, read.errors, values)
    try:
        await vaccine_rules(page.services).change(code, changes, await page.who())
    except InvalidInput as exc:
        return page.refused(here, exc, values)
    return page.saved(here)


routes = [vaccines_page, vaccine_page, change_vaccine]
