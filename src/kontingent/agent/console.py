"""One request of the agent console: the portal's page machinery, the agent, and the desk.

Invariants kept here:
- The console answers like the portal (web/page.py): the same headers (no caching, no
  script), the same language switch, every POST a 303, a failed round's messages and typed
  values carried to the GET page that shows them once, with the focus on the error summary.
- The desk cookie (agent/session.py) is written only when a page changed it.
- Handlers never read the principal or the desk themselves: `Console` hands out both, and
  the audit channel of every console action is `browser`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar import Request, Response

from kontingent.agent import session
from kontingent.agent.service import AgentDesk
from kontingent.i18n import N_
from kontingent.staff.audit import Channel
from kontingent.staff.guards import principal_of
from kontingent.web.page import Portal

AnyRequest = Request[Any, Any, Any]
CHANNEL = Channel.browser
# What a redirect may ask the next console page to say (never free text from the URL).
NOTES = {
    "booked": N_("agent.note.booked"),
    "cancelled": N_("agent.note.cancelled"),
    "rebooked": N_("agent.note.rebooked"),
    "restart": N_("agent.note.restart"),
    "taken": N_("agent.note.taken"),
    "offer": N_("agent.note.offer"),
}


class Console:
    def __init__(self, request: AnyRequest) -> None:
        self.request = request
        self.portal = Portal(request)
        self.t = self.portal.t
        self.services = self.portal.services
        self.principal = principal_of(request)
        self.ip = self.services.limits.address_of(request.scope)
        raw = request.cookies.get(session.COOKIE)
        secret = self.services.settings.secret_key
        self.desk = session.decode(raw, secret, self.portal.now, self.principal.username)
        self._changed = False

    @property
    def agent_desk(self) -> AgentDesk:
        return AgentDesk.of(self.services)

    def save(self, **changes: Any) -> None:
        self.desk = session.replace(self.desk, **changes)
        self._changed = True

    def _finish(self, response: Response[Any]) -> Response[Any]:
        if self._changed:
            settings = self.services.settings
            response.set_cookie(
                session.cookie(self.desk, settings.secret_key, self.portal.now, not settings.demo)
            )
        return response

    def note(self) -> str | None:
        key = NOTES.get(self.request.query_params.get("note", ""))
        return self.t(key) if key else None

    def render(self, template: str, *, title: str, **context: Any) -> Response[Any]:
        context.setdefault("notice", self.note())
        page = self.portal.render(template, title=title, principal=self.principal, **context)
        return self._finish(page)

    def redirect(self, path: str, **query: str | int) -> Response[Any]:
        return self._finish(self.portal.redirect(path, **query))

    def fail(
        self, page: str, errors: Mapping[str, str], values: Mapping[str, str] | None = None
    ) -> Response[Any]:
        return self._finish(self.portal.fail(page, errors, values))
