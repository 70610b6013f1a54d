"""One request of the centre console: the portal's page machinery, the staff member, their
lane's batch number, and the script the console's pages may run.

Invariants kept here:
- The console answers like the portal (web/page.py): no caching, every POST a 303, a failed
  round's messages carried to the GET page that shows them once. Its pages differ in one
  header only: their Content-Security-Policy allows scripts from this site (`'self'`: the
  console's own script and the vendored QR reader, static/VENDORED.md) and nothing inline,
  and the camera; every page works without them.
- The lane cookie holds the batch number last recorded in this browser, nothing else: it is
  read back through `normalise_batch`, so an altered cookie is an empty field, never an
  error. Per browser (a lane's desktop or tablet), only sent to /centre, HttpOnly,
  SameSite=Strict, Secure outside demo mode.
- Handlers never read the principal themselves: `CentreConsole` hands it out, and the audit
  channel of every console action is `browser`.
"""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.datastructures import Cookie

from kontingent.centre.model import normalise_batch
from kontingent.centre.service import Acting, CentreDesk
from kontingent.errors import InvalidInput
from kontingent.staff.audit import Channel
from kontingent.staff.console import AnyRequest as AnyRequest  # the consoles' pages import it here
from kontingent.staff.console import StaffPage
from kontingent.web.page import HEADERS

LANE_COOKIE = "kt_lane"
LANE_MAX_AGE = 16 * 3600  # one working day: tomorrow's first vial is another batch
CSP = HEADERS["Content-Security-Policy"].replace("script-src 'none'", "script-src 'self'")
PAGE_HEADERS = {
    **HEADERS,
    "Content-Security-Policy": CSP,
    "Permissions-Policy": "camera=(self)",
}


class CentreConsole(StaffPage):
    def __init__(self, request: AnyRequest) -> None:
        super().__init__(request)
        self.desk = CentreDesk(self.services.db, self.services.clock, self.services.inventory)
        self._lane: str | None = None

    @property
    def acting(self) -> Acting:
        return Acting(self.principal, Channel.browser, self.ip)

    async def limit(self) -> None:
        """The `centre_record` limit of this staff account (RateLimited: 429)."""
        scope = self.request.scope
        await self.services.limits.enforce(scope, "centre_record", self.principal.username)

    def lane_batch(self) -> str:
        """The batch number this browser recorded last ("" if none or not one)."""
        try:
            return normalise_batch(self.request.cookies.get(LANE_COOKIE, ""))
        except InvalidInput:
            return ""

    def remember_batch(self, batch: str) -> None:
        self._lane = batch

    def finish(self, response: Response[Any]) -> Response[Any]:
        response.headers.update(PAGE_HEADERS)
        if self._lane is not None:
            response.set_cookie(
                Cookie(
                    key=LANE_COOKIE, value=self._lane, max_age=LANE_MAX_AGE, path="/centre",
                    httponly=True, samesite="strict", secure=not self.services.settings.demo,
                )
            )  # fmt: skip
        return response
