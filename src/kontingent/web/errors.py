"""Error pages for the portal: the same failures the API answers in JSON, in plain words.

Invariants kept here:
- Paths under /api/ keep their JSON errors; every other path gets an HTML page in the person's
  language that says what happened, whether anything was stored, and what to do next.
- A failed POST of a portal form (a forged CSRF token, a limit, an outage, a bug) is answered
  like any refused form: 303 to the form's GET page, which shows the message at the top; so
  no POST of the portal ever answers with a page (the back button never asks to resubmit).
  The one exception: a staff form refused for the account's role answers 403 at once, since
  its GET page would refuse the same account.
- Rendering an error page never raises: if the page itself fails, a minimal page is sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from kontingent.errors import DatabaseUnavailable, Forbidden, KontingentError, RateLimited
from kontingent.web.forms import FORM
from kontingent.web.page import GET_OF_POST, HEADERS, Portal, route_path

log = structlog.get_logger(__name__)
E = TypeVar("E", bound=Exception)
Handler = Callable[[Request[Any, Any, Any], E], Response[Any]]
_FALLBACK = (
    "<!doctype html><html lang=de><meta charset=utf-8><title>Fehler</title>"
    "<h1>Ein Fehler bei uns / An error on our side</h1>"
    "<p><a href='/'>Startseite / Start page</a></p></html>"
)


def is_api(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/")


def _status(exc: Exception) -> int:
    if isinstance(exc, KontingentError):
        return exc.status
    if isinstance(exc, HTTPException):
        return exc.status_code
    if isinstance(exc, ValidationException):
        return 400
    return 500


def _lines(portal: Portal, status: int, exc: Exception) -> tuple[str, list[str]]:
    t = portal.t
    if status == 403:
        return t("page.403.title"), [t("page.403.text"), t("page.403.what")]
    if status in (404, 405):
        return t("page.404.title"), [t("page.404.text")]
    if isinstance(exc, DatabaseUnavailable):
        return t("page.503.title"), [t("page.503.text", wait=t.wait(exc.retry_after_s))]
    if status == 429 or isinstance(exc, RateLimited):  # 503s that say when to come back too
        seconds = exc.retry_after_s if isinstance(exc, RateLimited) else 60
        return t("page.429.title"), [t("page.429.text", wait=t.wait(seconds))]
    if status < 500:
        return t("page.400.title"), [t("page.400.text")]
    return t("page.500.title"), [t("page.500.text")]


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status = _status(exc)
    if status >= 500 and not isinstance(exc, KontingentError):  # a refusal is no bug
        log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    try:
        portal = Portal(request)
        heading, lines = _lines(portal, status, exc)
        here = route_path(request)  # never the path as sent: see page.py
        # A staff page refused for the account's role (staff/guards.py) is no form round:
        # its GET page refuses the same account, so the answer is the 403 page itself.
        refused_role = isinstance(exc, Forbidden) and exc.code in ("wrong_role", "wrong_centre")
        if request.method == "POST" and here is not None and not refused_role:
            message = " ".join([f"{heading}.", *lines])
            return portal.fail(GET_OF_POST.get(here, here), {FORM: message})
        back = here if request.method == "GET" else None
        if status == 403 and request.method != "GET" and here is not None:
            back = GET_OF_POST.get(here, here)
        page = portal.render(
            "message.html",
            title=heading,
            status=status,
            heading=heading,
            lines=lines,
            link_url="/" if status in (404, 405) or status >= 500 else None,
            link_label=portal.t("page.back_start"),
            back_url=back if status in (403, 429, 503) else None,
            back_label=portal.t("form.back"),
        )
        if isinstance(exc, RateLimited):
            page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    except Exception:
        log.exception("error_page_failed", path=request.url.path)
        return Response(_FALLBACK, status_code=status, media_type="text/html", headers=HEADERS)


def portal_or(api_handler: Handler[E]) -> Handler[E]:
    """`api_handler` for /api/ paths, an HTML error page for the portal's."""

    def handle(request: Request[Any, Any, Any], exc: E) -> Response[Any]:
        if is_api(request):
            return api_handler(request, exc)
        return error_page(request, exc)

    return handle
