"""HTTP: the live dashboard as JSON for scripts and as a page that refreshes itself.

Invariants kept here:
- Admins only (`staff_guard`, role admin): the API with a bearer token, the pages with the
  session cookie (guards.py).
- The page works without script: it reloads itself every REFRESH_S seconds (a meta refresh
  inside <noscript>) and has a reload link. With script (the one file admin-dashboard.js,
  allowed by this page's Content-Security-Policy alone) it fetches the live part
  (`/admin/dashboard/live`) every REFRESH_S seconds and swaps it in, without a reload.
- Every answer reads the process's snapshot (dashboard.py), so polling costs the database
  at most one small read per process every few seconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.di import NamedDependency
from litestar.response import Template

from kontingent.admin.dashboard_charts import bookings_chart, free_pairs_chart
from kontingent.admin.dashboard_model import FREE_DAYS, Snapshot
from kontingent.admin.dashboard_schemas import DashboardOut
from kontingent.admin.home import render
from kontingent.clock import BERLIN
from kontingent.i18n import N_
from kontingent.services import Services
from kontingent.staff.guards import staff_guard, staff_only
from kontingent.staff.model import Role
from kontingent.web.page import HEADERS, Portal

AnyRequest = Request[Any, Any, Any]
TEMPLATES = Path(__file__).parent / "templates"
REFRESH_S = 5
CHANNEL_KEYS = {
    "web": N_("admin.channel.web"),
    "phone": N_("admin.channel.phone"),
    "on_site": N_("admin.channel.on_site"),
}
# The portal's policy with one script of this site allowed: the dashboard's refresh.
SCRIPT_CSP = HEADERS["Content-Security-Policy"].replace("script-src 'none'", "script-src 'self'")


@get(
    "/admin/dashboard",
    guards=[staff_guard],
    opt=staff_only(Role.admin),
    description="The live figures of the campaign: bookings per minute and channel over the "
    "last hour, free pairs per centre and vaccine for first doses in the next 14 days, the "
    "waiting room's queue, the outbox backlog and failures, and when the free pairs will be "
    "gone at the current booking rate. Read at most every 2 s per process.",
)
async def dashboard_json(services: NamedDependency[Services]) -> DashboardOut:
    return DashboardOut.of(await services.dashboard.snapshot())


def _context(portal: Portal, s: Snapshot) -> dict[str, Any]:
    vaccines = sorted({f.vaccine for f in s.free})
    pairs = {(f.centre_id, f.vaccine): f.pairs for f in s.free}
    centres = sorted({(f.centre_id, f.centre) for f in s.free})
    return {
        "snap": s,
        "data": DashboardOut.of(s),
        "bookings_chart": bookings_chart(
            s.minutes,
            {c: portal.t(key) for c, key in CHANNEL_KEYS.items()},
            portal.t("admin.dash.minutes_ago"),
        ),
        "free_chart": free_pairs_chart(s.free),
        "vaccines": vaccines,
        "centres": centres,
        "pairs": pairs,
        "recent": [m for m in s.minutes[-10:]][::-1],
        "updated": s.at.astimezone(BERLIN).strftime("%H:%M:%S"),
        "free_days": FREE_DAYS,
        "refresh_s": REFRESH_S,
    }


@get("/admin/dashboard", guards=[staff_guard], opt=staff_only(Role.admin))
async def dashboard_page(request: AnyRequest) -> Template:
    portal = Portal(request)
    snapshot = await portal.services.dashboard.snapshot()
    page = render(
        portal,
        request,
        "admin_dashboard.html",
        title=portal.t("admin.dash.title"),
        **_context(portal, snapshot),
    )
    page.headers["Content-Security-Policy"] = SCRIPT_CSP
    return page


@get("/admin/dashboard/live", guards=[staff_guard], opt=staff_only(Role.admin))
async def dashboard_live(request: AnyRequest) -> Template:
    """The live part of the page alone, for the script to swap in."""
    portal = Portal(request)
    snapshot = await portal.services.dashboard.snapshot()
    return render(
        portal,
        request,
        "admin_dash_live.html",
        title=portal.t("admin.dash.title"),
        **_context(portal, snapshot),
    )


api_router = Router("/", route_handlers=[dashboard_json], tags=["staff", "admin"])
pages = [dashboard_page, dashboard_live]
