"""The staff endpoints over HTTP: tokens for scripts, the login page and its cookie, logout,
and the audit log for admins (API and page), each action leaving its audit row."""

from __future__ import annotations

import re
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from tests.integration.staff.conftest import PASSWORD, add_accounts
from tests.support import error_of

Client = AsyncTestClient[Litestar]
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


async def token(client: Client, username: str, password: str = PASSWORD) -> Any:
    return await client.post(
        "/api/v1/auth/token", json={"username": username, "password": password}
    )


async def audit(client: Client, admin: str, **query: str) -> dict[str, Any]:
    answer = await client.get(
        "/api/v1/admin/audit", params=query, headers={"Authorization": f"Bearer {admin}"}
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_a_token_as_api_md_says_and_revoked_by_delete(
    client: Client, services: Services
) -> None:
    await add_accounts(services)
    answer = await token(client, "Centre.Carl")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"token", "role", "centre_ids", "expires_at"}
    assert body["role"] == "centre_staff" and body["centre_ids"] == [1]
    assert body["expires_at"].endswith("+01:00")
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert (await client.delete("/api/v1/auth/token", headers=bearer)).json() == {
        "status": "revoked"
    }
    error_of(await client.delete("/api/v1/auth/token", headers=bearer), 401, "unauthorized")


async def test_wrong_password_and_unknown_user_get_the_same_401_then_429_locked(
    client: Client, services: Services
) -> None:
    await add_accounts(services)
    wrong = error_of(await token(client, "agent.anna", "nicht das Passwort"), 401, "login_failed")
    unknown = error_of(
        await token(client, "nobody.at.all", "nicht das Passwort"), 401, "login_failed"
    )
    assert wrong == unknown
    for _ in range(4):
        await token(client, "agent.anna", "nicht das Passwort")
    locked = await token(client, "agent.anna")
    error_of(locked, 429, "login_locked")
    assert 800 < int(locked.headers["retry-after"]) <= 900


async def test_the_audit_log_filters_and_pages_for_admins(
    client: Client, services: Services
) -> None:
    await add_accounts(services)
    for _ in range(3):
        assert (await token(client, "agent.anna")).status_code == 200
    await token(client, "agent.anna", "nicht das Passwort")
    admin = (await token(client, "admin.ada")).json()["token"]
    logins = await audit(client, admin, user="agent.anna", action="login", limit="2")
    assert [i["action"] for i in logins["items"]] == ["login", "login"]
    item = logins["items"][0]
    assert {"at", "user", "role", "action", "target", "channel", "ip"} <= set(item)
    assert item["user"] == "agent.anna" and item["role"] == "agent" and item["channel"] == "api"
    assert logins["next"] is not None
    rest = await client.get(logins["next"], headers={"Authorization": f"Bearer {admin}"})
    assert [i["action"] for i in rest.json()["items"]] == ["login"] and rest.json()["next"] is None
    failed = await audit(client, admin, action="login_failed")
    assert [i["user"] for i in failed["items"]] == ["agent.anna"]
    adds = await audit(client, admin, action="user_add", target="centre.carl")
    assert adds["items"][0]["details"] == {"role": "centre_staff", "centre_ids": [1]}
    error_of(
        await client.get("/api/v1/admin/audit", params={"since": "2026-01-12T09:00"},
                         headers={"Authorization": f"Bearer {admin}"}),
        422,
    )  # fmt: skip


async def login_page(client: Client) -> str:
    page = await client.get("/staff/login")
    assert page.status_code == 200
    found = _CSRF.search(page.text)
    assert found
    return found.group(1)


async def test_browser_login_sets_a_strict_httponly_cookie_and_logout_ends_it(
    client: Client, services: Services
) -> None:
    await add_accounts(services)
    csrf = await login_page(client)
    form = {"username": "admin.ada", "password": PASSWORD, "_csrf_token": csrf}
    answer = await client.post("/staff/login?next=/admin/audit", data=form, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/audit"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("kt_staff="))
    assert "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert "Secure" not in cookie  # demo mode in tests; Secure outside it
    page = await client.get("/admin/audit")
    assert page.status_code == 200 and "admin.ada" in page.text and "login" in page.text
    out = await client.post("/staff/logout", data={"_csrf_token": csrf}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/staff/login")
    again = await client.get("/admin/audit", follow_redirects=False)
    assert (
        again.status_code == 303 and again.headers["location"] == "/staff/login?next=/admin/audit"
    )


async def test_the_login_form_refuses_a_post_without_its_csrf_token(
    client: Client, services: Services
) -> None:
    await add_accounts(services)
    await login_page(client)
    form = {"username": "admin.ada", "password": PASSWORD}
    answer = await client.post("/staff/login", data=form, follow_redirects=False)
    # Like every form of the site, a refused one goes back to its page (303), logged in never.
    assert answer.status_code == 303 and answer.headers["location"].startswith("/staff/login")
    assert "kt_staff" not in answer.headers.get("set-cookie", "")
    assert (await client.get("/staff", follow_redirects=False)).status_code in (302, 303)


async def test_a_failed_browser_login_says_so_without_naming_the_cause(
    client: Client, services: Services
) -> None:
    await add_accounts(services)
    csrf = await login_page(client)
    texts = []
    for name in ("admin.ada", "nobody.at.all"):
        form = {"username": name, "password": "nicht das Passwort", "_csrf_token": csrf}
        answer = await client.post("/staff/login?lang=en", data=form, follow_redirects=False)
        assert answer.status_code == 401
        texts.append(re.sub(r"\s+", " ", answer.text.replace(name, "NAME")))
    assert "The user name or password is wrong" in texts[0]
    assert texts[0] == texts[1]


async def test_login_leads_on_only_to_staff_pages_of_this_site(
    client: Client, services: Services
) -> None:
    await add_accounts(services)
    csrf = await login_page(client)
    form = {"username": "agent.anna", "password": PASSWORD, "_csrf_token": csrf}
    for target in ("//evil.example/x", "https://evil.example/", "/staff/../../x"):
        answer = await client.post("/staff/login", params={"next": target}, data=form,
                                   follow_redirects=False)  # fmt: skip
        assert answer.headers["location"] == "/staff", target
