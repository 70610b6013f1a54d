"""One request of a staff console page (agent, centre, admin): what every console has.

Invariants kept here:
- A console page answers like the portal (web/page.py): its headers, language switch, 303
  after every POST, and a failed round's messages carried to the GET page that shows them.
- A redirect's `note` is looked up in the console's own `notes` (never free text from the
  URL); a console without one of its own leaves the portal's.
- Every answer passes `finish`, where a console adds what it keeps in its own cookies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from litestar import Request, Response
from litestar.response import Template

from kontingent.staff.guards import principal_of
from kontingent.web.page import Portal

AnyRequest = Request[Any, Any, Any]


class StaffPage:
    """The portal's page machinery, the staff member who acts and the address they act from."""

    notes: ClassVar[Mapping[str, str]] = {}  # note name -> text key

    def __init__(self, request: AnyRequest) -> None:
        self.request = request
        self.portal = Portal(request)
        self.t = self.portal.t
        self.services = self.portal.services
        self.principal = principal_of(request)
        self.ip = self.services.limits.address_of(request.scope)

    def note(self) -> str | None:
        key = self.notes.get(self.request.query_params.get("note", ""))
        return self.t(key) if key else None

    def page(self, template: str, **context: Any) -> Template:
        """The page itself; the admin console adds its navigation."""
        return self.portal.render(template, principal=self.principal, **context)

    def finish(self, response: Response[Any]) -> Response[Any]:
        """Every answer on its way out: a console adds its own cookies and headers here."""
        return response

    def render(self, template: str, title: str, **context: Any) -> Response[Any]:
        context.setdefault("notice", self.note())
        return self.finish(self.page(template, title=title, **context))

    def redirect(self, path: str, **query: str | int) -> Response[Any]:
        return self.finish(self.portal.redirect(path, **query))

    def fail(
        self,
        page: str,
        errors: Mapping[str, str] | None = None,
        values: Mapping[str, str] | None = None,
        notice: str | None = None,
    ) -> Response[Any]:
        return self.finish(self.portal.fail(page, errors, values, notice))
