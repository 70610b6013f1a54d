"""Every route the app registers says who may call it, and the guards hold: walked over the
app itself (as tests/unit/ratelimit/test_routes.py walks the rate limits), so a route added
later cannot forget its guard. Anonymous: 401 on the API, the login page for pages; each
wrong role: 403; the right role: neither; a centre_staff account only at its centres."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar, Request, get
from litestar.params import FromPath
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from kontingent.staff.audit import Channel
from kontingent.staff.guards import (
    PUBLIC_OPT,
    STAFF_ROLES_OPT,
    principal_of,
    staff_guard,
    staff_only,
)
from kontingent.staff.model import Role, SessionKind
from tests.integration.staff.conftest import ACCOUNTS, add_accounts
from tests.support import error_of

Client = AsyncTestClient[Litestar]
SAMPLE = {"int": "1", "str": "K7QMX2P4", "path": "portal.css"}
_PARAM = re.compile(r"\{(\w+):(\w+)\}")
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


def routes(app: Litestar) -> list[tuple[str, str, Any]]:
    """(path, method, handler) of every route handler, Litestar's own OPTIONS answers aside."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            methods = set(handler.http_methods) - {"OPTIONS", "HEAD"}
            if methods:
                found.append((route.path, sorted(methods)[0], handler))
    return found


def undecided(app: Litestar) -> list[str]:
    """Routes that neither say they are public nor carry the staff guard with roles."""
    problems = []
    for path, method, handler in routes(app):
        guarded = staff_guard in handler.resolve_guards() and handler.opt.get(STAFF_ROLES_OPT)
        public = handler.opt.get(PUBLIC_OPT)
        if not guarded and not public:
            problems.append(f"{method} {path}: opt=public(why) or guards=[staff_guard]+staff_only")
        if guarded and public:
            problems.append(f"{method} {path}: both public and guarded")
    return problems


def staff_routes(app: Litestar) -> list[tuple[str, str, tuple[Role, ...]]]:
    return [
        (_PARAM.sub(lambda m: SAMPLE[m.group(2)], path), method, handler.opt[STAFF_ROLES_OPT])
        for path, method, handler in routes(app)
        if handler.opt.get(STAFF_ROLES_OPT)
    ]


async def call(client: Client, method: str, path: str, token: str | None, csrf: str) -> Any:
    client.cookies.clear()
    client.cookies.set("kt_csrf", csrf[1])
    headers = {}
    if path.startswith("/api/"):
        if token:
            headers["Authorization"] = f"Bearer {token}"
    elif token:
        client.cookies.set("kt_staff", token)
    if path.startswith("/api/"):
        # An empty JSON object: a JSON route refuses any other body before its guard (415).
        body = {} if method in ("POST", "PUT", "PATCH") else None
        return await client.request(method, path, headers=headers, json=body,
                                    follow_redirects=False)  # fmt: skip
    data = {"_csrf_token": csrf[0]} if method == "POST" else None
    return await client.request(method, path, headers=headers, data=data, follow_redirects=False)


async def session(services: Services, role: Role, path: str) -> str:
    """A fresh session of the role's account (a walked route may end the one it is given)."""
    kind = SessionKind.api if path.startswith("/api/") else SessionKind.browser
    account = ACCOUNTS[role]
    return (
        await services.staff.login(account.username, account.password, kind, Channel.api, None)
    ).token


async def csrf_pair(client: Client) -> tuple[str, str]:
    page = await client.get("/staff/login")
    found = _CSRF.search(page.text)
    assert found, page.text
    return found.group(1), client.cookies["kt_csrf"]


def test_every_route_says_it_is_public_or_names_its_roles(app: Litestar) -> None:
    assert undecided(app) == []
    paths = {(path, roles) for path, _, roles in staff_routes(app)}
    assert ("/api/v1/admin/audit", (Role.admin,)) in paths
    assert ("/admin/audit", (Role.admin,)) in paths
    for path in ("/api/v1/admin/centres", "/api/v1/admin/centres/1"):
        assert (path, (Role.admin,)) in paths
    for path in (
        "/api/v1/admin/vaccines",
        "/api/v1/admin/cohorts/1",
        "/api/v1/admin/campaign",
        "/admin/vaccines/K7QMX2P4",
        "/admin/cohorts/new",
        "/admin/campaign/window",
    ):
        assert (path, (Role.admin,)) in paths, path  # fmt: skip
    for path in ("/admin/dashboard", "/admin/stats", "/admin/exports/bookings.csv",
                 "/admin/exports/stats.csv"):  # fmt: skip
        assert ("/api/v1" + path, (Role.admin,)) in paths, path
        assert (path, (Role.admin,)) in paths, path
    assert ("/admin/dashboard/live", (Role.admin,)) in paths
    centre = (Role.centre_staff, Role.admin)
    for path in (
        "/api/v1/staff/centres/1/appointments",
        "/api/v1/staff/appointments/1/vaccinated",
        "/api/v1/staff/appointments/1/no-show",
        "/api/v1/staff/centres/1/no-shows",
        "/centre",
        "/centre/1",
        "/centre/1/checkin",
        "/centre/1/print",
        "/centre/1/no-shows",
    ):
        assert (path, centre) in paths, path
    both = (Role.centre_staff, Role.admin)
    assert ("/api/v1/staff/second-doses", both) in paths
    assert ("/centre/1/second-dose/K7QMX2P4", both) in paths
    assert ("/api/v1/admin/releases", (Role.admin,)) in paths
    assert ("/api/v1/admin/releases/1/cancel", (Role.admin,)) in paths


def test_a_new_route_without_a_decision_fails_the_walk(app: Litestar) -> None:
    @get("/api/v1/agent/forgotten", sync_to_thread=False)
    def forgotten() -> None:
        return None

    app.register(forgotten)
    assert undecided(app) == [
        "GET /api/v1/agent/forgotten: opt=public(why) or guards=[staff_guard]+staff_only"
    ]


async def test_anonymous_wrong_roles_and_the_right_role_on_every_staff_route(
    app: Litestar, client: Client, services: Services
) -> None:
    await add_accounts(services)
    csrf = await csrf_pair(client)
    walked = staff_routes(app)
    assert len(walked) >= 4
    for path, method, roles in walked:
        where = f"{method} {path}"
        anonymous = await call(client, method, path, None, csrf)
        if path.startswith("/api/"):
            assert error_of(anonymous, 401, "unauthorized"), where
        else:
            assert anonymous.status_code == 303, where
            assert anonymous.headers["location"].startswith("/staff/login"), where
        for role in Role:
            answer = await call(client, method, path, await session(services, role, path), csrf)
            if role in roles:
                assert answer.status_code not in (401, 403), (where, role, answer.text)
                assert "/staff/login?next=" not in answer.headers.get("location", ""), (where, role)
            else:
                assert answer.status_code == 403, (where, role, answer.text)


async def test_a_browser_cookie_never_authenticates_an_api_call_nor_a_token_a_page(
    client: Client, services: Services
) -> None:
    await add_accounts(services)
    csrf = await csrf_pair(client)
    browser = await session(services, Role.admin, "/admin/audit")
    api = await session(services, Role.admin, "/api/v1/admin/audit")
    client.cookies.set("kt_staff", browser)
    error_of(await client.get("/api/v1/admin/audit"), 401)
    page = await call(client, "GET", "/admin/audit", api, csrf)
    assert page.status_code == 303


async def test_centre_staff_pass_only_at_their_own_centres(
    app: Litestar, client: Client, services: Services
) -> None:
    @get(
        "/api/v1/staff/centres/{centre_id:int}/probe",
        guards=[staff_guard],
        opt=staff_only(Role.centre_staff, Role.admin, centre_param="centre_id"),
    )
    async def probe(request: Request[Any, Any, Any], centre_id: FromPath[int]) -> dict[str, Any]:
        return {"centre_id": centre_id, "user": principal_of(request).username}

    app.register(probe)
    await add_accounts(services)
    csrf = await csrf_pair(client)
    path = "/api/v1/staff/centres/{}/probe"
    carl = await session(services, Role.centre_staff, path)
    assert (await call(client, "GET", path.format(1), carl, csrf)).json()["user"] == "centre.carl"
    error_of(await call(client, "GET", path.format(2), carl, csrf), 403, "wrong_centre")
    admin = await session(services, Role.admin, path)
    assert (await call(client, "GET", path.format(2), admin, csrf)).status_code == 200
    agent = await session(services, Role.agent, path)
    error_of(await call(client, "GET", path.format(1), agent, csrf), 403, "wrong_role")
