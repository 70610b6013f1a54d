"""HTTP: the statistics as JSON and as a page of press figures.

Invariants kept here:
- Admins only (`staff_guard`, role admin): the API with a bearer token, the page with the
  session cookie; reads only, so nothing here is audited or rate limited.
- The page and the JSON show the same `StatsOut`, so a figure quoted from one is the other's.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.response import Template

from kontingent.admin.home import render
from kontingent.admin.stats_schemas import StatsOut
from kontingent.inventory.model import local_day
from kontingent.services import Services
from kontingent.staff.guards import staff_guard, staff_only
from kontingent.staff.model import Role
from kontingent.web.page import Portal

AnyRequest = Request[Any, Any, Any]


@get(
    "/admin/stats",
    guards=[staff_guard],
    opt=staff_only(Role.admin),
    description="Figures like a campaign's press releases: bookings, persons with an "
    "appointment, appointments booked (first and second doses) and free (released seats "
    "nobody holds, from today on), by channel, centre and vaccine, and per cohort the "
    "persons of its ages with an appointment and their share of its population "
    "(`share` null with `note` until `kontingent population import` ran).",
)
async def stats_json(services: NamedDependency[Services]) -> StatsOut:
    return StatsOut.of(await services.statistics.figures())


@get("/admin/stats", guards=[staff_guard], opt=staff_only(Role.admin))
async def stats_page(request: AnyRequest) -> Template:
    portal = Portal(request)
    figures = await portal.services.statistics.figures()
    return render(
        portal,
        request,
        "admin_stats.html",
        title=portal.t("admin.stats.title"),
        stats=StatsOut.of(figures),
        now=portal.now,
        today=local_day(portal.now).isoformat(),
    )


api_router = Router("/", route_handlers=[stats_json], tags=["staff", "admin"])
pages = [stats_page]
