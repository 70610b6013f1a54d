"""The legal pages: the Impressum and the privacy notice, linked from every page's footer.

Invariants kept here:
- The operator shown is the one configured (`operator_*` settings), on these pages and in
  every page's footer alike; demo mode says that the values are examples.
- The privacy notice states the periods the code keeps: the session cookie's lifetime and
  the sent messages' retention are read from where they are enforced, never retyped.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from kontingent.notifications.service import SENT_RETENTION
from kontingent.web import session
from kontingent.web.page import Portal

AnyRequest = Request[Any, Any, Any]


@get("/impressum")
async def impressum(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    return portal.render("impressum.html", title=portal.t("impressum.title"))


@get("/datenschutz")
async def privacy(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    return portal.render(
        "privacy.html",
        title=portal.t("privacy.title"),
        cookie_hours=int(session.TTL.total_seconds() // 3600),
        message_days=SENT_RETENTION.days,
    )


routes = [impressum, privacy]
