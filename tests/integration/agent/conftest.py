"""The agent console as a browser sees it: a staff session (logged in through the form), the
CSRF token of the last page, and bookings made through the citizens' API to look at."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services
from kontingent.staff.model import Role
from kontingent.staff.tables import audit_log
from tests.integration.api.conftest import GetToken, get_token, svc  # noqa: F401 (fixtures)
from tests.integration.api.test_booking_api import book, offer_ids
from tests.integration.staff.conftest import ACCOUNTS, PASSWORD, add_accounts
from tests.support import FormClient, person

Client = AsyncTestClient[Litestar]


class Browser(FormClient):
    """The console as a browser sees it (tests/support.py FormClient); a GET stops at a
    redirect, `open` follows it."""

    follow = False

    async def open(self, path: str, **params: Any) -> Any:
        """GET and follow redirects as a browser does; the page it ends on."""
        response = await self.get(path, **params)
        while response.status_code in (302, 303):
            response = await self.get(response.headers["location"])
        return response

    async def submit(self, path: str, data: dict[str, str]) -> Any:
        """POST a form and follow its 303 (no console POST answers with a page)."""
        answer = await self.post(path, data)
        assert answer.status_code == 303, (answer.status_code, answer.text[:300])
        return await self.open(answer.headers["location"])

    async def log_in(self, role: Role) -> None:
        await self.get("/staff/login")
        form = {"username": ACCOUNTS[role].username, "password": PASSWORD}
        answer = await self.post("/staff/login", form)
        assert answer.status_code == 303, answer.text


@pytest.fixture
async def agent(client: Client, svc: Services) -> Browser:  # noqa: F811
    await add_accounts(svc)
    browser = Browser(client)
    await browser.log_in(Role.agent)
    return browser


async def web_booking(client: Client, get_token: GetToken, i: int) -> dict[str, Any]:  # noqa: F811
    """A booking made by a citizen through the API, for the console to find."""
    response = await book(client, await get_token(i), [person(i)], await offer_ids(client))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def audit_rows(svc: Services, action: str) -> list[tuple[str, str | None, str]]:  # noqa: F811
    async with svc.db.read() as conn:
        query = select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)
        return [(r.username, r.target, r.channel) for r in await conn.execute(query)]
