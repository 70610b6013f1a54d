"""Fixtures for the HTTP API tests: the app's own services, and booking tokens got the way a
client gets them (PIN requested over HTTP, read from the dev mailbox, traded for a token)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from tests.support import phone, read_pin

GetToken = Callable[[int], Awaitable[str]]


@pytest.fixture
def svc(services: Services) -> Services:
    """Services on the same database and clock as `client`, for setting up and checking.

    Not `app.state.services`: the test client runs the app on an event loop of its own, and a
    connection pool must not be shared between loops.
    """
    return services


@pytest.fixture
def get_token(client: AsyncTestClient[Litestar], svc: Services) -> GetToken:
    async def get(i: int = 0) -> str:
        started = await client.post("/api/v1/verifications", json={"phone": phone(i)})
        assert started.status_code == 201, started.text
        pin = await read_pin(svc, phone(i))
        checked = await client.post(
            f"/api/v1/verifications/{started.json()['verification_id']}", json={"pin": pin}
        )
        assert checked.status_code == 200, checked.text
        token: str = checked.json()["token"]
        return token

    return get
