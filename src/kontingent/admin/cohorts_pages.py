"""The admin console's cohort pages: `/admin/cohorts` (every cohort, by opening),
`/admin/cohorts/new` and `/admin/cohorts/{id}` (add one, change one).

Invariants kept here:
- Admins only; every change goes through `CohortRules` (checked whole, audited, every
  process told) and is limited per admin.
- The opening minute is typed and shown in Europe/Berlin; the page says that the cohort
  opens at that minute everywhere and that bookings already made stay.
- Every POST answers 303; a refusal comes back to the form with what was typed.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get, post
from litestar.params import FromPath

from kontingent.admin.campaign_forms import AdminPage, AnyRequest, Reader, local_minute
from kontingent.admin.campaign_routes import ADMINS, CHANGES
from kontingent.admin.cohorts_model import CohortRule
from kontingent.admin.cohorts_routes import cohort_rules
from kontingent.admin.vaccines_routes import vaccine_rules
from kontingent.errors import InvalidInput
from kontingent.staff.guards import staff_guard
from kontingent.web import forms

FIELDS = ("name", "min_age", "max_age", "opens_at", "district_rule")
NEW = "/admin/cohorts/new"


def _shown(rule: CohortRule) -> dict[str, str]:
    return {
        "name": rule.name, "min_age": str(rule.min_age),
        "max_age": "" if rule.max_age is None else str(rule.max_age),
        "opens_at": local_minute(rule.opens_at), "district_rule": rule.district_rule,
        "vaccines": ",".join(sorted(rule.vaccines)),
    }  # fmt: skip


@get("/admin/cohorts", guards=[staff_guard], opt=ADMINS)
async def cohorts_page(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    found = await cohort_rules(page.services).all()
    rows = [(i, rule, page.t.when(rule.opens_at), rule.opens_at <= page.portal.now)
            for i, rule in found]  # fmt: skip
    return page.render("admin_cohorts.html", title=page.t("admin.cohorts.title"), cohorts=rows)


async def _form(page: AdminPage, here: str, title: str, shown: dict[str, str]) -> Response[Any]:
    kept = page.portal.round_for(here)
    values = {**shown, **(kept.values if kept else {})}
    known = await vaccine_rules(page.services).all()
    chosen = set(values.get("vaccines", "").split(","))
    return page.render(
        "admin_cohort.html", title=title, kept=kept, values=values, action=here,
        vaccines=[(v.code, v.name, v.code in chosen) for v in known],
    )  # fmt: skip


@get(NEW, guards=[staff_guard], opt=ADMINS)
async def new_cohort_page(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    blank = {name: "" for name in FIELDS} | {"district_rule": "own", "vaccines": ""}
    return await _form(page, NEW, page.t("admin.cohort.new"), blank)


@get("/admin/cohorts/{cohort_id:int}", guards=[staff_guard], opt=ADMINS)
async def cohort_page(request: AnyRequest, cohort_id: FromPath[int]) -> Response[Any]:
    page = AdminPage(request)
    _, rule = await cohort_rules(page.services).one(cohort_id)
    title = page.t("admin.cohort.title", name=rule.name)
    return await _form(page, f"/admin/cohorts/{cohort_id}", title, _shown(rule))


async def _read(page: AdminPage) -> tuple[dict[str, str], CohortRule | None, dict[str, str]]:
    """What was typed (for a failed round), the cohort it says, and what is no value."""
    form = await page.request.form()
    values = forms.read(form, FIELDS)
    codes = sorted({str(c)[:40] for c in form.getall("vaccines", [])})
    values["vaccines"] = ",".join(codes)
    read = Reader(values, page)
    low, high = read.whole("min_age"), read.whole("max_age", optional=True)
    opens = read.minute("opens_at")
    if read.errors or low is None or opens is None:
        return values, None, read.errors
    rule = CohortRule(values["name"], low, high, frozenset(codes), opens, values["district_rule"])
    return values, rule, {}


@post(NEW, guards=[staff_guard], opt=CHANGES)
async def add_cohort(request: AnyRequest) -> Response[Any]:
    page = AdminPage(request)
    values, rule, errors = await _read(page)
    if rule is None:
        return page.fail(NEW, errors, values)
    try:
        new_id, _ = await cohort_rules(page.services).add(rule, await page.who())
    except InvalidInput as exc:
        return page.refused(NEW, exc, values)
    return page.saved(f"/admin/cohorts/{new_id}", "added")


@post("/admin/cohorts/{cohort_id:int}", guards=[staff_guard], opt=CHANGES)
async def change_cohort(request: AnyRequest, cohort_id: FromPath[int]) -> Response[Any]:
    page, here = AdminPage(request), f"/admin/cohorts/{cohort_id}"
    values, rule, errors = await _read(page)
    if rule is None:
        return page.fail(here, errors, values)
    changes = {name: getattr(rule, name) for name in CohortRule.__slots__}
    try:
        await cohort_rules(page.services).change(cohort_id, changes, await page.who())
    except InvalidInput as exc:
        return page.refused(here, exc, values)
    return page.saved(here)


routes = [cohorts_page, new_cohort_page, cohort_page, add_cohort, change_cohort]
