"""Health, readiness and metrics of a whole app on SQLite and PostgreSQL: readiness names the
dependency that failed, and `/metrics` counts requests by route template, bookings by outcome,
the outbox backlog and the availability cache."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from tests.integration.api.test_booking_api import GetToken, book, offer_ids
from tests.support import person, set_free

Client = AsyncTestClient[Litestar]
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample of the exposition text, or None when it is not there."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = "^" + re.escape(name + (f"{{{wanted}}}" if labels else "")) + r" (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    return None if found is None else float(found.group(1))


async def test_healthz_and_readyz(client: Client) -> None:
    alive = await client.get("/healthz")
    assert alive.status_code == 200 and alive.json() == {"status": "ok"}
    assert "set-cookie" not in alive.headers  # no CSRF cookie for probes
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["status"] == "ready"
    assert ready.json()["checks"]["database"]["ok"] is True
    assert "redis" not in ready.json()["checks"]  # not configured, not asked


@pytest.fixture
async def without_redis(settings: Settings, clock: FixedClock) -> AsyncIterator[Client]:
    app = create_app(dataclasses.replace(settings, redis_url=UNREACHABLE_REDIS), clock)
    async with AsyncTestClient(app) as c:
        yield c


async def test_readyz_names_redis_when_it_cannot_be_reached(without_redis: Client) -> None:
    answer = await without_redis.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["error"]["code"] == "unavailable"
    assert body["error"]["details"]["failed"] == ["redis"]
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["redis"]["ok"] is False and body["checks"]["redis"]["error"]
    assert (await without_redis.get("/healthz")).status_code == 200  # alive all the same


async def test_metrics_count_routes_bookings_outbox_and_cache(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    tokens = [await get_token(0), await get_token(1)]  # each runs the relay: get them first
    ids = await offer_ids(client)
    assert (await book(client, tokens[0], [person(0)], ids)).status_code == 201
    await set_free(svc.db, 0, ids[1])
    taken = await book(client, tokens[1], [person(1)], ids)
    assert taken.status_code == 409
    code = (await client.get("/api/v1/bookings/NOPE-NOPE-NOPE?birth_date=1939-05-01")).status_code
    assert code in (404, 422)

    page = await client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    text = page.text
    booked = sample(text, "kontingent_bookings_total", action="book", outcome="booked")
    lost = sample(text, "kontingent_bookings_total", action="book", outcome="slot_taken")
    assert (booked, lost) == (1.0, 1.0)
    posts = sample(
        text,
        "kontingent_http_requests_total",
        route="/api/v1/bookings",
        method="POST",
        status="201",
    )
    assert posts == 1.0
    assert 'route="/api/v1/bookings/{code}"' in text and "NOPE" not in text
    assert 'route="/api/v1/centres/{centre_id}/offers"' in text
    # The booking queued its confirmations (no relay runs in these tests).
    assert (sample(text, "kontingent_outbox_pending", channel="sms") or 0) >= 1
    assert sample(text, "kontingent_outbox_parked", channel="email") == 0
    hits = sample(text, "kontingent_cache_hits_total") or 0
    misses = sample(text, "kontingent_cache_misses_total") or 0
    assert hits + misses >= 1
    assert sample(text, "kontingent_waiting_room_waiting") == 0
    assert sample(text, "kontingent_waiting_room_mode", mode="off") == 1
