"""The waiting room in the portal: the door in front of the verification and booking steps,
and the queue page (/warteschlange) that shows the place in line and lets people through.

Invariants kept here:
- Information pages (start, eligibility, offers, manage booking) never meet the door; the
  steps that verify a phone or book call `gate` first.
- Ticket and admission token live in the signed session cookie, so any server process can
  serve the queue page; the page refreshes itself with a meta tag (no script), as often as
  the room says (less often the further back a person stands) but never more often than
  every REFRESH_MIN_S: each reload makes a screen reader start reading the page again, and
  a person admitted meanwhile loses at most that much of an admission that lasts minutes.
- The page names the wait: estimated from the steady admission rate when there is one,
  else the least it can be at the room's effective rate (admissions never go faster).
- When the room is off the page says so and explains the room, with a link to go on: a
  visitor who came to /warteschlange is never sent somewhere else without a word.
- When admitted, a person continues where they were sent from, which is only ever one of
  the journey's own steps (`_NEXT`): the page is no open redirect.
- While the room's store is unreachable the page says so plainly, answers 503 with
  Retry-After, and lets nobody through.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template

from kontingent.errors import NotFound
from kontingent.i18n import N_
from kontingent.ratelimit.service import RETRY_AFTER_SCOPE_KEY, limited
from kontingent.waiting_room.routes import limit_draw
from kontingent.waiting_room.service import WaitingRoom
from kontingent.waiting_room.views import (
    PAUSED_RETRY_AFTER_S,
    AdmissionRefused,
    QueueView,
    TicketExpired,
    WaitingRoomPaused,
)
from kontingent.web.page import Portal

QUEUE_PATH = "/warteschlange"
REFRESH_MIN_S = 20
_NEXT = ("/phone", "/pin", "/details", "/choose", "/manage/")


def _safe_next(path: str | None) -> str:
    if path and path.startswith(_NEXT) and not path.startswith("//"):
        return path
    return "/phone"


async def gate(portal: Portal, next_path: str, **keep: Any) -> Response[Any] | None:
    """None when the person may pass; else a redirect to the queue page, remembering where
    to continue (`keep`: flow fields to save on the way, such as a typed draft)."""
    room: WaitingRoom = portal.services.waiting_room
    try:
        await room.require(portal.flow.admission, portal.flow.queue)
    except AdmissionRefused:
        portal.save(queue_next=_safe_next(next_path), admission=None, **keep)
        return portal.redirect(QUEUE_PATH)
    return None


async def _where(portal: Portal, ticket: str | None) -> tuple[QueueView, str | None]:
    """The person's place: their ticket's, or a new one (with a note why, if it ran out).
    Before the opening a new one is a draw, limited per address (429 page when over)."""
    room: WaitingRoom = portal.services.waiting_room
    note = None
    if ticket:
        try:
            return await room.status(ticket), None
        except TicketExpired:
            note = N_("queue.expired")
        except NotFound:
            pass
    await limit_draw(portal.services, portal.request.scope)
    return await room.join(), note


def _wait_text(portal: Portal, view: QueueView) -> str | None:
    if view.estimated_wait_s is not None:
        if view.estimated_wait_s < 60:
            return portal.t("queue.wait.soon")
        return portal.t.plural(
            "queue.wait.minutes", "queue.wait.minutes.plural", round(view.estimated_wait_s / 60)
        )
    if view.least_wait_s is None:
        return None
    if view.least_wait_s < 60:
        return portal.t("queue.wait.least_soon")
    return portal.t.plural(
        "queue.wait.least", "queue.wait.least.plural", int(view.least_wait_s // 60)
    )


def _opens_text(portal: Portal, opens: float | None) -> str:
    if opens and opens > portal.now.timestamp():
        return portal.t.at(datetime.fromtimestamp(opens, UTC))
    return portal.t("queue.before.now")


@get(QUEUE_PATH, opt=limited("queue_draw"))  # a GET that joins: a ticket per visit
async def queue_page(request: Request[Any, Any, Any]) -> Response[Any]:
    portal = Portal(request)
    try:
        view, note = await _where(portal, portal.flow.queue)
    except WaitingRoomPaused:
        request.scope[RETRY_AFTER_SCOPE_KEY] = PAUSED_RETRY_AFTER_S  # type: ignore[literal-required]
        refresh = max(REFRESH_MIN_S, PAUSED_RETRY_AFTER_S)
        return _page(portal, status=503, paused=True, refresh=refresh)
    if view.admitted and view.admission_token is None:  # the room is off: nothing to wait for
        return _off_page(portal)
    if view.admitted:
        next_path = _safe_next(portal.flow.queue_next)
        portal.save(queue=view.ticket, admission=view.admission_token, queue_next=None)
        return portal.redirect(next_path)
    portal.save(queue=view.ticket, admission=None)
    return _page(
        portal,
        notice=portal.t(note) if note else None,
        refresh=max(REFRESH_MIN_S, round(view.poll_after_s)),
        before=view.status == "before_opening",
        opens=_opens_text(portal, view.opens_at),
        position=view.position,
        serving=view.serving,
        ahead=max(0, (view.position or 0) - view.serving - 1),
        wait=_wait_text(portal, view),
    )


def _off_page(portal: Portal) -> Template:
    """What the room is and that it is off now; the way on is where the person was headed
    (one of the journey's own steps), else the start of the journey."""
    flow = portal.flow
    next_path = _safe_next(flow.queue_next) if flow.queue_next else "/eligibility"
    if flow.queue or flow.admission or flow.queue_next:
        portal.save(queue=None, admission=None, queue_next=None)
    return portal.render("queue_off.html", title=portal.t("queue.off.title"), next_url=next_path)


def _page(
    portal: Portal, *, status: int = 200, notice: str | None = None, **context: Any
) -> Template:
    context.setdefault("paused", False)
    context.setdefault("before", False)
    minutes = round(portal.services.waiting_room.config.ttl_s / 60)
    title = portal.t("queue.paused.title") if context["paused"] else portal.t("queue.title")
    return portal.render(
        "queue.html", title=title, status=status, notice=notice, minutes=minutes, **context
    )


routes = [queue_page]
