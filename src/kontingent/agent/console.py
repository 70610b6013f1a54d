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

from typing import Any

from litestar import Response

from kontingent.agent import session
from kontingent.agent.service import AgentDesk
from kontingent.i18n import N_
from kontingent.staff.audit import Channel
from kontingent.staff.console import AnyRequest as AnyRequest  # the consoles' pages import it here
from kontingent.staff.console import StaffPage

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


class Console(StaffPage):
    notes = NOTES

    def __init__(self, request: AnyRequest) -> None:
        super().__init__(request)
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

    def finish(self, response: Response[Any]) -> Response[Any]:
        if self._changed:
            settings = self.services.settings
            response.set_cookie(
                session.cookie(self.desk, settings.secret_key, self.portal.now, not settings.demo)
            )
        return response
