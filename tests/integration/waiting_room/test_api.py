"""The waiting room over HTTP (API.md, "Waiting room"): join, poll, admission, and the
X-Admission header that verification and booking require while the room is on."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.edge import protect
from kontingent.waiting_room import tokens
from kontingent.waiting_room.model import far_ahead
from kontingent.waiting_room.redis_store import RedisWaitingRoom
from tests.integration.api.test_observability import sample
from tests.integration.waiting_room.conftest import DEAD_REDIS_URL
from tests.support import BIELEFELD, T0, error_of, person, phone, read_pin

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
Client = AsyncTestClient[Litestar]
SHAPE = {"ticket", "position", "serving", "admitted", "poll_after_s", "estimated_wait_s"}


@pytest.fixture
def room_settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        waiting_room=True,
        waiting_room_opens_at=T0.isoformat(),
        waiting_room_admission_rate=1.0,
        waiting_room_admission_ttl_s=600.0,
    )


@pytest.fixture
async def room_client(room_settings: Settings, clock: FixedClock) -> AsyncIterator[Client]:
    async with AsyncTestClient(create_app(room_settings, clock)) as c:
        yield c


async def _admitted(client: Client, clock: FixedClock) -> dict[str, Any]:
    joined = await client.post("/api/v1/queue")
    assert joined.status_code == 201, joined.text
    clock.advance(timedelta(seconds=2))
    polled = await client.get(f"/api/v1/queue/{joined.json()['ticket']}")
    assert polled.status_code == 200 and polled.json()["admitted"], polled.text
    body: dict[str, Any] = polled.json()
    return body


async def test_join_and_poll_answer_the_documented_shape(
    room_client: Client, clock: FixedClock
) -> None:
    first = (await room_client.post("/api/v1/queue")).json()
    clock.advance(timedelta(milliseconds=1))
    second = (await room_client.post("/api/v1/queue")).json()
    assert set(first) >= SHAPE and first["admitted"] is False
    assert first["ticket"] != second["ticket"] and first["poll_after_s"] > 0
    polled = (await room_client.get(f"/api/v1/queue/{second['ticket']}")).json()
    assert polled["position"] == 2 and polled["serving"] == 0 and "admission_token" in polled
    clock.advance(timedelta(seconds=1.5))
    admitted = (await room_client.get(f"/api/v1/queue/{first['ticket']}")).json()
    assert admitted["admitted"] and admitted["admission_token"].startswith("v1.")
    assert admitted["serving"] == 1
    unknown = await room_client.get(f"/api/v1/queue/{tokens.new_ticket()}")
    assert error_of(unknown, 404, "unknown_ticket")["message"].find("POST /api/v1/queue") > 0


async def test_verification_and_booking_need_an_admission_while_the_room_is_on(
    room_client: Client, clock: FixedClock, services: Services
) -> None:
    body = {"phone": phone(1)}
    missing = await room_client.post("/api/v1/verifications", json=body)
    assert "POST /api/v1/queue" in error_of(missing, 403, "admission_required")["message"]
    forged = tokens.sign("not the server's key" * 2, tokens.new_ticket(), 2e9)
    refused = await room_client.post(
        "/api/v1/verifications", json=body, headers={"X-Admission": forged}
    )
    error_of(refused, 403, "admission_invalid")

    admission = {"X-Admission": (await _admitted(room_client, clock))["admission_token"]}
    started = await room_client.post("/api/v1/verifications", json=body, headers=admission)
    assert started.status_code == 201, started.text
    pin = await read_pin(services, phone(1))
    confirm = f"/api/v1/verifications/{started.json()['verification_id']}"
    assert error_of(await room_client.post(confirm, json={"pin": pin}), 403, "admission_required")
    checked = await room_client.post(confirm, json={"pin": pin}, headers=admission)
    assert checked.status_code == 200, checked.text
    headers = {**admission, "Authorization": f"Bearer {checked.json()['token']}"}

    url = f"/api/v1/centres/{BIELEFELD}/offers?vaccine=BNT&persons=1&limit=2"
    offers = (await room_client.get(url)).json()["offers"]  # browsing stays open
    slot_ids = [a["slot_id"] for a in offers[0]["appointments"]]
    order = {"persons": [person(1, phone=phone(1))], "slot_ids": slot_ids}
    bearer_only = {"Authorization": headers["Authorization"]}
    no_admission = await room_client.post("/api/v1/bookings", json=order, headers=bearer_only)
    error_of(no_admission, 403, "admission_required")
    booked = await room_client.post(
        "/api/v1/bookings", json=order, headers={**headers, "Idempotency-Key": "one"}
    )
    assert booked.status_code == 201, booked.text
    again = await room_client.post(
        "/api/v1/bookings", json=order, headers={**headers, "Idempotency-Key": "one"}
    )
    assert again.status_code == 201 and again.json()["code"] == booked.json()["code"]
    other = [a["slot_id"] for a in offers[1]["appointments"]]
    replay = await room_client.post(
        "/api/v1/bookings", json={**order, "slot_ids": other}, headers=headers
    )
    assert "already used" in error_of(replay, 403, "admission_used")["message"]


async def test_an_expired_admission_is_refused_and_its_ticket_says_so(
    room_client: Client, clock: FixedClock
) -> None:
    admitted = await _admitted(room_client, clock)
    clock.advance(timedelta(seconds=601))
    headers = {"X-Admission": admitted["admission_token"]}
    late = await room_client.post(
        "/api/v1/verifications", json={"phone": phone(2)}, headers=headers
    )
    error_of(late, 403, "admission_expired")
    gone = await room_client.get(f"/api/v1/queue/{admitted['ticket']}")
    error_of(gone, 410, "admission_expired")


async def test_with_the_room_off_joining_admits_at_once_and_nothing_is_required(
    client: Client,
) -> None:
    joined = await client.post("/api/v1/queue")
    assert joined.status_code == 201 and joined.json()["admitted"] is True
    polled = await client.get(f"/api/v1/queue/{joined.json()['ticket']}")
    assert polled.status_code == 200 and polled.json()["admitted"] is True
    assert polled.json()["admission_token"] is None  # nothing to show at an open door
    started = await client.post("/api/v1/verifications", json={"phone": phone(3)})
    assert started.status_code == 201, started.text


async def test_with_its_store_unreachable_the_queue_answers_503_with_retry_after(
    room_settings: Settings, clock: FixedClock
) -> None:
    app = create_app(room_settings, clock)
    room = app.state.services.waiting_room
    await room.store.aclose()
    room.store = RedisWaitingRoom.from_url(DEAD_REDIS_URL, "kt_test_dead:")
    async with AsyncTestClient(app) as client:
        joined = await client.post("/api/v1/queue")
        assert "nobody is being let in" in error_of(joined, 503, "waiting_room_paused")["message"]
        assert int(joined.headers["Retry-After"]) > 0
        polled = await client.get(f"/api/v1/queue/{tokens.new_ticket()}")
        error_of(polled, 503, "waiting_room_paused")
        refused = await client.post("/api/v1/verifications", json={"phone": phone(4)})
        error_of(refused, 403, "admission_required")


async def test_joins_and_far_back_polls_are_answered_in_front_of_the_framework_alike(
    room_settings: Settings, clock: FixedClock
) -> None:
    app = create_app(room_settings, clock)
    room = app.state.services.waiting_room
    inner = inspect.unwrap(app.asgi_handler)  # Litestar's own, under every wrapper

    async def without_shortcut(scope: Any, receive: Any, send: Any) -> None:
        scope["app"] = scope["litestar_app"] = app  # as Litestar.__call__ does
        await inner(scope, receive, send)

    # The same running app, behind the same edge (origin rule, headers) as the shortcut.
    transport = httpx.ASGITransport(app=protect(without_shortcut, room_settings))
    async with (
        AsyncTestClient(app) as client,
        httpx.AsyncClient(transport=transport, base_url="http://testserver.local") as framework,
    ):
        short_join, full_join = (
            await client.post("/api/v1/queue"),
            await framework.post("/api/v1/queue"),
        )
        assert short_join.status_code == full_join.status_code == 201
        assert short_join.headers == full_join.headers
        assert set(short_join.json()) == set(full_join.json()) >= SHAPE
        tickets = [short_join.json()["ticket"], full_join.json()["ticket"]]
        for _ in range(far_ahead(1.0) + 20):
            tickets.append((await client.post("/api/v1/queue")).json()["ticket"])
            clock.advance(timedelta(milliseconds=1))
        clock.advance(timedelta(seconds=1))  # the next request refreshes the snapshot
        last = f"/api/v1/queue/{tickets[-1]}"
        short, full = await client.get(last), await framework.get(last)
        assert await room.far_status(tickets[-1]) is not None  # so the shortcut answered
        assert await room.far_status(tickets[0]) is None  # the front: the store answers
        assert short.status_code == full.status_code == 200
        assert short.headers == full.headers
        one, other = short.json(), full.json()
        assert one.pop("poll_after_s") > 0 and other.pop("poll_after_s") > 0  # jittered
        assert one == other and one["status"] == "waiting"
        assert one["position"] == len(tickets)  # the last to join: everyone else first

        forged = tokens.scored_ticket("not the server's key" * 2, T0.timestamp())
        for path in (f"/api/v1/queue/{forged}", "/api/v1/queue/a/b"):
            assert (await client.get(path)).status_code == 404  # passed on, answered there
        scraped = (await client.get("/metrics")).text
        # Counted once each: the framework client bypasses the metrics as well.
        for method, status, count in (("POST", "201", len(tickets) - 1), ("GET", "200", 1)):
            route = "/api/v1/queue" + ("/{ticket}" if method == "GET" else "")
            labels = {"route": route, "method": method, "status": status}
            assert sample(scraped, "kontingent_http_requests_total", **labels) == count
        labels = {"route": "/api/v1/queue/{ticket}", "method": "GET", "status": "404"}
        assert sample(scraped, "kontingent_http_requests_total", **labels) == 1


async def test_joins_before_the_opening_draw_places_a_limited_number_of_times_per_address(
    room_settings: Settings, clock: FixedClock
) -> None:
    limited = dataclasses.replace(
        room_settings,
        waiting_room_opens_at=(T0 + timedelta(minutes=10)).isoformat(),
        rate_limits=True,
        rate_queue_draw_per_ip="3/10m",
    )
    async with AsyncTestClient(create_app(limited, clock)) as client:
        for _ in range(3):
            assert (await client.post("/api/v1/queue")).status_code == 201
        refused = await client.post("/api/v1/queue")
        assert "too many queue joins before the opening" in error_of(refused, 429)["message"]
        assert int(refused.headers["Retry-After"]) > 0
        clock.advance(timedelta(minutes=10))  # open: a join queues at the back, no draw
        for _ in range(5):
            assert (await client.post("/api/v1/queue")).status_code == 201
