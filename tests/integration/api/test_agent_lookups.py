"""Hotline agents find a caller's bookings by code, by last name and birth date, or by phone
(API.md, "Hotline agents"); each search leaves an audit row naming the agent and the codes
found, written with the read; searches are limited per agent; other roles get 403."""

from __future__ import annotations

import dataclasses
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.staff.model import Role
from kontingent.staff.tables import audit_log
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_booking_api import book, offer_ids
from tests.integration.staff.conftest import ACCOUNTS, BY_CLI, PASSWORD, add_accounts
from tests.support import error_of, person, phone

Client = AsyncTestClient[Litestar]


async def bearer(client: Client, role: Role) -> dict[str, str]:
    answer = await client.post(
        "/api/v1/auth/token", json={"username": ACCOUNTS[role].username, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def booked(client: Client, get_token: GetToken, i: int) -> dict[str, Any]:
    response = await book(client, await get_token(i), [person(i)], await offer_ids(client))
    assert response.status_code == 201, response.text
    return dict(response.json())


async def lookups(svc: Services) -> list[tuple[str, str | None, dict[str, Any]]]:
    async with svc.db.read() as conn:
        query = select(audit_log).where(audit_log.c.action == "booking_lookup")
        return [(r.username, r.target, r.details) for r in await conn.execute(query)]


async def test_an_agent_finds_bookings_three_ways_and_each_search_is_audited(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    await add_accounts(svc)
    first, second = await booked(client, get_token, 0), await booked(client, get_token, 1)
    agent = await bearer(client, Role.agent)
    code = first["code"]
    by_code = await client.get(
        "/api/v1/agent/bookings", params={"code": code.lower()}, headers=agent
    )
    assert [b["code"] for b in by_code.json()] == [code]
    assert by_code.json()[0]["persons"][0]["last_name"] == person(0)["last_name"]
    by_name = await client.get(
        "/api/v1/agent/bookings",
        params={"last_name": person(1)["last_name"].upper(), "birth_date": "1939-05-01"},
        headers=agent,
    )
    assert [b["code"] for b in by_name.json()] == [second["code"]]
    by_phone = await client.get(
        "/api/v1/agent/bookings", params={"phone": phone(1).replace("+49", "0")}, headers=agent
    )
    assert [b["code"] for b in by_phone.json()] == [second["code"]]
    nothing = await client.get("/api/v1/agent/bookings", params={"code": "K7QM-3XPA-9RTD"},
                               headers=agent)  # fmt: skip
    assert nothing.status_code == 200 and nothing.json() == []
    assert await lookups(svc) == [
        ("agent.anna", code, {"by": "code", "found": [code]}),
        ("agent.anna", second["code"], {"by": "name", "found": [second["code"]]}),
        ("agent.anna", second["code"], {"by": "phone", "found": [second["code"]]}),
        ("agent.anna", None, {"by": "code", "found": []}),
    ]


async def test_a_search_needs_exactly_one_way_and_other_roles_are_refused(
    client: Client, svc: Services
) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    for params in ({}, {"code": "K7QM-3XPA-9RTD", "phone": "01701234567"}, {"last_name": "X"}):
        error_of(await client.get("/api/v1/agent/bookings", params=params, headers=agent),
                 422, "invalid_search")  # fmt: skip
    error_of(await client.get("/api/v1/agent/bookings", params={"phone": "12"}, headers=agent),
             422, "invalid_phone")  # fmt: skip
    for role in (Role.centre_staff, Role.admin):
        answer = await client.get("/api/v1/agent/bookings", params={"code": "K7QM-3XPA-9RTD"},
                                  headers=await bearer(client, role))  # fmt: skip
        error_of(answer, 403, "wrong_role")
    assert await lookups(svc) == []


async def test_searches_are_limited_per_agent_not_per_address(
    settings: Settings, clock: FixedClock, svc: Services
) -> None:
    limited = dataclasses.replace(settings, rate_limits=True, rate_agent_lookup_per_agent="2/1h")
    await add_accounts(svc)
    await svc.staff.add_user("agent.bert", Role.agent, PASSWORD, [], BY_CLI)
    async with AsyncTestClient(create_app(limited, clock)) as client:
        anna = await bearer(client, Role.agent)
        search = {"code": "K7QM-3XPA-9RTD"}
        for _ in range(2):
            assert (
                await client.get("/api/v1/agent/bookings", params=search, headers=anna)
            ).status_code == 200
        refused = await client.get("/api/v1/agent/bookings", params=search, headers=anna)
        assert error_of(refused, 429)["details"] == {
            "retry_after_s": 1800,
            "action": "agent_lookup",
            "per": "agent",
        }
        login = await client.post(
            "/api/v1/auth/token", json={"username": "agent.bert", "password": PASSWORD}
        )
        bert = {"Authorization": f"Bearer {login.json()['token']}"}
        assert (
            await client.get("/api/v1/agent/bookings", params=search, headers=bert)
        ).status_code == 200
