"""Offer reads answered in front of the framework (inventory/fast_reads.py) answer exactly as
the route does: the same status, headers and body for plain reads and for every request the
shortcut hands on, and a booking shows in the next plain read at once."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update

from kontingent.app import Services
from kontingent.config import Settings
from kontingent.db import Database
from kontingent.edge import protect
from kontingent.inventory.fast_reads import OfferReads
from kontingent.schema import slots
from tests.integration.api.test_booking_api import book
from tests.integration.api.test_observability import sample
from tests.support import BIELEFELD, person, phone, read_pin

Clients = tuple[httpx.AsyncClient, httpx.AsyncClient]
PLAIN = [
    "vaccine=BNT",
    "vaccine=BNT&persons=2&limit=3",
    "vaccine=AZ&limit=1",
    "limit=50&vaccine=BNT&persons=1",
    "vaccine=BNT&day=2026-12-09",
    "vaccine=BNT&day=2026-12-09&part=afternoon",
    "vaccine=BNT&part=evening&persons=2",
    "vaccine=%42NT",
    "vaccine=BNT&persons=2&part=morning&day=2020-01-01",  # a past day: none, and alternatives
]
HANDED_ON = [
    "",  # no vaccine
    "vaccine=",
    "vaccine=BNT&persons=3",
    "vaccine=BNT&persons=01",
    "vaccine=BNT&limit=0",
    "vaccine=BNT&limit=51",
    "vaccine=BNT&vaccine=AZ",
    "vaccine=BNT&colour=blue",
    "vaccine=BNT&day=20261209",
    "vaccine=BNT&day=2026-02-30",
    "vaccine=BNT&part=night",
    "vaccine=XYZ",  # unknown vaccine: the service refuses
    "vaccine=%ff",
]


@asynccontextmanager
async def serving(app: Litestar, settings: Settings) -> AsyncIterator[Clients]:
    """Clients of the app as served, and of the same running app without any shortcut behind
    the same edge; both on this test's event loop, where the app's connection pool lives."""
    inner = inspect.unwrap(app.asgi_handler)

    async def without_shortcuts(scope: Any, receive: Any, send: Any) -> None:
        scope["app"] = scope["litestar_app"] = app  # as Litestar.__call__ does
        await inner(scope, receive, send)

    def client(asgi: Any) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=asgi)
        return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")

    async with (
        app.lifespan(),
        client(app) as served,
        client(protect(without_shortcuts, settings)) as framework,
    ):
        yield served, framework


def answer(response: httpx.Response) -> tuple[int, dict[str, str], bytes]:
    return response.status_code, dict(response.headers), response.content


@pytest.mark.parametrize("centre", [BIELEFELD, 99999, 0])
async def test_the_shortcut_answers_as_the_route_does(
    app: Litestar, settings: Settings, centre: int
) -> None:
    async with serving(app, settings) as (client, framework):
        await _compare(client, framework, centre)


async def _compare(client: httpx.AsyncClient, framework: httpx.AsyncClient, centre: int) -> None:
    for query in PLAIN + HANDED_ON:
        path = f"/api/v1/centres/{centre}/offers?{query}"
        short, full = await client.get(path), await framework.get(path)
        assert answer(short) == answer(full), path
    statuses = {
        (await client.get(f"/api/v1/centres/{centre}/offers?{q}")).status_code for q in PLAIN
    }
    assert statuses == ({200} if centre == BIELEFELD else {404})


async def test_plain_reads_are_answered_before_the_framework_and_counted_once(
    app: Litestar, settings: Settings
) -> None:
    services = app.state.services
    reads = OfferReads(services.inventory, services.limits, "offers")
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async with serving(app, settings) as (client, _):
        for query in PLAIN + HANDED_ON:
            scope = {"path": f"/api/v1/centres/{BIELEFELD}/offers", "query_string": query.encode()}
            scope |= {"client": ("127.0.0.1", 1), "headers": []}
            assert await reads.answer(scope, send) is (query in PLAIN), query
        for query in PLAIN:
            assert (
                await client.get(f"/api/v1/centres/{BIELEFELD}/offers?{query}")
            ).status_code == 200
        scraped = (await client.get("/metrics")).text
    labels = {"route": "/api/v1/centres/{centre_id}/offers", "method": "GET", "status": "200"}
    assert sample(scraped, "kontingent_http_requests_total", **labels) == len(PLAIN)


async def test_bookings_show_in_the_next_plain_read(app: Litestar, settings: Settings) -> None:
    """Booking the first offer again and again until its slots are full: after each booking
    the kept answer is the framework's, and a full slot leaves the offers at once."""
    path = f"/api/v1/centres/{BIELEFELD}/offers?vaccine=BNT&limit=3"
    async with serving(app, settings) as (client, framework):
        await _two_seats_each(app.state.services.db, BIELEFELD, "BNT")
        first = (await client.get(path)).json()["offers"][0]
        taken = [a["slot_id"] for a in first["appointments"]]
        for i in range(3):
            token = await _token(client, app.state.services, i)
            booked = await book(client, token, [person(i)], taken)  # type: ignore[arg-type]
            short, full = await client.get(path), await framework.get(path)
            assert answer(short) == answer(full)
            if booked.status_code == 409:
                break
            assert booked.status_code == 201, booked.text
        else:
            raise AssertionError("the first offer's slots never filled")
        offered = {a["slot_id"] for o in short.json()["offers"] for a in o["appointments"]}
        assert short.json()["offers"][0] != first and not offered & set(taken)


async def _two_seats_each(db: Database, centre_id: int, vaccine: str) -> None:
    async with db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == centre_id, slots.c.vaccine_code == vaccine)
            .values(booked=slots.c.capacity - 2, phone_reserved=0)
        )


async def _token(client: httpx.AsyncClient, services: Services, i: int) -> str:
    started = await client.post("/api/v1/verifications", json={"phone": phone(i)})
    assert started.status_code == 201, started.text
    pin = await read_pin(services, phone(i))
    url = f"/api/v1/verifications/{started.json()['verification_id']}"
    checked = await client.post(url, json={"pin": pin})
    assert checked.status_code == 200, checked.text
    token: str = checked.json()["token"]
    return token
