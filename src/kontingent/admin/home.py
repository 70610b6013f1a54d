"""The admin console's frame: the landing page `/admin`, linking every part of the console
(the same links as the navigation of admin_base.html, which every admin page extends).

Invariants kept here:
- For admins only (`staff_only(Role.admin)`); it shows and links, it changes nothing.
- The console's parts are listed once, here (`SECTIONS`): the landing page and the
  navigation read the same list, in the same order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template

from kontingent.i18n import N_
from kontingent.staff.console import StaffPage
from kontingent.staff.guards import principal_of, staff_guard, staff_only
from kontingent.staff.model import Role
from kontingent.web.page import Portal

TEMPLATES = Path(__file__).parent / "templates"
ADMINS = staff_only(Role.admin)
AnyRequest = Request[Any, Any, Any]
# (path, link text, what it is for) of each part of the console.
SECTIONS = (
    ("/admin/dashboard", N_("admin.nav.dashboard"), N_("admin.home.dashboard")),
    ("/admin/releases", N_("admin.nav.releases"), N_("admin.home.releases")),
    ("/admin/centres", N_("admin.nav.centres"), N_("admin.home.centres")),
    ("/admin/vaccines", N_("admin.nav.vaccines"), N_("admin.home.vaccines")),
    ("/admin/cohorts", N_("admin.nav.cohorts"), N_("admin.home.cohorts")),
    ("/admin/campaign", N_("admin.nav.campaign"), N_("admin.home.campaign")),
    ("/admin/stats", N_("admin.nav.stats"), N_("admin.home.stats")),
    ("/admin/audit", N_("admin.nav.audit"), N_("admin.home.audit")),
)


def render(portal: Portal, request: AnyRequest, template: str, **context: Any) -> Template:
    """An admin page: the console's navigation (the current part marked) and the admin."""
    here = request.url.path
    current = next((p for p, _, _ in SECTIONS if here == p or here.startswith(p + "/")), None)
    return portal.render(
        template, sections=SECTIONS, current=current, principal=principal_of(request), **context
    )


class AdminConsole(StaffPage):
    """One request of an admin page: `StaffPage` with the console's navigation."""

    def page(self, template: str, **context: Any) -> Template:
        return render(self.portal, self.request, template, **context)


@get("/admin", guards=[staff_guard], opt=ADMINS)
async def home(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    return render(portal, request, "admin_home.html", title=portal.t("admin.home.title"))


routes = [home]
