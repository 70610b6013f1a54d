"""The staff pages: log in, the start page of each role, log out, and the admins' audit log.

Invariants kept here:
- The session cookie holds a random token only (stored hashed), HttpOnly, SameSite=Strict,
  Secure outside demo mode; logging out revokes the session on the server, not just the
  cookie.
- Every form carries the CSRF token (the portal's double-submit check covers these paths).
- After logging in, `next` may only lead to a staff page of this site (never `//host`),
  so the login page cannot be made to forward anyone elsewhere.
- A failed login shows the same words for an unknown name and a wrong password.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Request, Response, get, post
from litestar.response import Redirect, Template

from kontingent.i18n import N_
from kontingent.ratelimit.service import limited, unlimited
from kontingent.staff import audit
from kontingent.staff.audit import Channel
from kontingent.staff.guards import (
    ALL_ROLES,
    SESSION_COOKIE,
    LoginRequired,
    principal_of,
    public,
    staff_guard,
    staff_only,
)
from kontingent.staff.model import Role, SessionKind
from kontingent.staff.service import LoginFailed, LoginLocked
from kontingent.web.forms import FORM, read
from kontingent.web.page import HEADERS, Portal

ROLE_TEXT = {
    Role.agent: N_("staff.role.agent"),
    Role.centre_staff: N_("staff.role.centre_staff"),
    Role.admin: N_("staff.role.admin"),
}
AnyRequest = Request[Any, Any, Any]
TEMPLATES = Path(__file__).parent / "templates"
NEXT_PATH = re.compile(r"/(staff|admin|agent|centre)(/[A-Za-z0-9_\-/]*)?")


def safe_next(raw: str | None) -> str | None:
    return raw if raw and NEXT_PATH.fullmatch(raw) else None


def _login_page(portal: Portal, status: int = 200, **extra: Any) -> Template:
    values = extra.pop("values", {"username": ""})
    next_path = safe_next(portal.request.query_params.get("next"))
    notice = portal.t("staff.logged_out") if portal.request.query_params.get("out") else None
    return portal.render(
        "staff_login.html", title=portal.t("staff.login.title"), status=status,
        values=values, next_path=next_path, principal=None, notice=notice, **extra,
    )  # fmt: skip


@get("/staff/login", opt=public("the login page"))
async def login_form(request: AnyRequest) -> Template:
    return _login_page(Portal(request))


@post("/staff/login", opt={**public("logging in"), **limited("staff_login")})
async def log_in(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    values = read(await request.form(), ("username", "password"))
    t = portal.t
    fields = {"username": N_("staff.field.username"), "password": N_("staff.field.password")}
    missing = {
        name: t("staff.login.missing", what=t(key))
        for name, key in fields.items()
        if not values[name]
    }
    shown = {"username": values["username"]}
    if missing:
        return _login_page(portal, 422, values=shown, errors=missing)
    services = portal.services
    await services.limits.enforce(request.scope, "staff_login")
    ip = services.limits.address_of(request.scope)
    try:
        login = await services.staff.login(
            values["username"], values["password"], SessionKind.browser, Channel.browser, ip
        )
    except LoginFailed:
        return _login_page(portal, 401, values=shown, errors={FORM: t("staff.login.failed")})
    except LoginLocked as exc:
        page = _login_page(
            portal, 429, values=shown,
            errors={FORM: t("staff.login.locked", minutes=max(1, round(exc.retry_after_s / 60)))},
        )  # fmt: skip
        page.headers["Retry-After"] = str(exc.retry_after_s)
        return page
    answer = portal.redirect(safe_next(request.query_params.get("next")) or "/staff")
    answer.set_cookie(
        SESSION_COOKIE,
        login.token,
        max_age=int(services.settings.staff_session_absolute_s),
        path="/",
        httponly=True,
        samesite="strict",
        secure=not services.settings.demo,
    )
    return answer


@post(
    "/staff/logout",
    guards=[staff_guard],
    opt={**staff_only(*ALL_ROLES), **unlimited("ends the caller's own session, once")},
)
async def log_out(request: AnyRequest) -> Redirect:
    portal = Portal(request)
    ip = portal.services.limits.address_of(request.scope)
    await portal.services.staff.logout(principal_of(request), Channel.browser, ip)
    answer = portal.redirect("/staff/login", out=1)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer


@get("/staff", guards=[staff_guard], opt=staff_only(*ALL_ROLES))
async def home(request: AnyRequest) -> Template:
    portal = Portal(request)
    principal = principal_of(request)
    return portal.render(
        "staff_home.html",
        title=portal.t("staff.home.title"),
        principal=principal,
        role_text=portal.t(ROLE_TEXT[principal.role]),
    )


@get("/admin/audit", guards=[staff_guard], opt=staff_only(Role.admin))
async def audit_page(request: AnyRequest) -> Template:
    portal = Portal(request)
    query = request.query_params
    values = {k: (query.get(k) or "")[:200] for k in ("user", "action", "target")}
    before = query.get("before", "")
    filters = audit.Filters(
        values["user"] or None, values["action"] or None, values["target"] or None,
        before=int(before) if before.isdigit() else None,
    )  # fmt: skip
    rows, more = await portal.services.staff.audit_page(filters)
    items = [{**row, "when": portal.t.when(row["at"])} for row in rows]
    older = f"/admin/audit?{urlencode({**values, 'before': more})}" if more else None
    return portal.render(
        "admin_audit.html", title=portal.t("staff.audit.title"), values=values,
        items=items, older_url=older, principal=principal_of(request),
    )  # fmt: skip


def on_login_required(request: AnyRequest, _: LoginRequired) -> Response[Any]:
    """A staff page without a live session: to the login page, and back here after it."""
    target = request.url.path if request.method == "GET" else "/staff"
    return Redirect(f"/staff/login?next={quote(target)}", status_code=303, headers=HEADERS)


routes = [login_form, log_in, log_out, home, audit_page]
