"""Phone verification over HTTP on SQLite and PostgreSQL: the PIN's way to the phone (outbox,
relay, dev mailbox), the token, and the 400/409/429 answers with their Retry-After.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import quote

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from kontingent.clock import FixedClock
from tests.support import error_of, phone, read_pin

Client = AsyncTestClient[Litestar]


async def start(client: Client, number: str) -> str:
    response = await client.post("/api/v1/verifications", json={"phone": number})
    assert response.status_code == 201, response.text
    verification_id: str = response.json()["verification_id"]
    return verification_id


async def confirm(client: Client, verification_id: str, pin: str) -> httpx.Response:
    return await client.post(f"/api/v1/verifications/{verification_id}", json={"pin": pin})


def wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


async def test_pin_by_sms_then_token(client: Client, svc: Services, clock: FixedClock) -> None:
    started = await client.post("/api/v1/verifications", json={"phone": "+49 170 1000000"})
    assert started.status_code == 201
    body = started.json()
    assert {"verification_id", "expires_at", "resend_after"} <= set(body)
    assert body["expires_at"] == "2026-01-12T09:30:00+01:00"
    assert body["resend_after"] == "2026-01-12T09:01:00+01:00"

    again = await client.post("/api/v1/verifications", json={"phone": phone(0)})
    error = error_of(again, 429, "resend_too_soon")
    assert again.headers["retry-after"] == "60" and error["details"]["retry_after_s"] == 60

    await svc.relay.run_once()
    inbox = (await client.get(f"/api/v1/dev/messages?to={quote(phone(0))}")).json()
    assert len(inbox) == 1 and inbox[0]["channel"] == "sms"
    found = re.search(r"\b(\d{6})\b", inbox[0]["body"])
    assert found is not None and "30 Minuten" in inbox[0]["body"]
    pin = found.group(1)

    error = error_of(await confirm(client, body["verification_id"], wrong(pin)), 400, "wrong_pin")
    assert "PIN" in error["message"]
    right = await confirm(client, body["verification_id"], f" {pin} ")
    assert right.status_code == 200 and set(right.json()) == {"token"}
    token = right.json()["token"]
    assert svc.verification.read_token(f"Bearer {token}").phone == phone(0)
    used = await confirm(client, body["verification_id"], pin)
    error_of(used, 409, "verification_used")

    clock.advance(timedelta(seconds=60))
    assert await start(client, phone(0))  # the cool-down is over


async def test_five_wrong_pins_then_429(client: Client, svc: Services) -> None:
    verification_id = await start(client, phone(1))
    pin = await read_pin(svc, phone(1))
    for _ in range(5):
        error_of(await confirm(client, verification_id, wrong(pin)), 400, "wrong_pin")
    closed = await confirm(client, verification_id, pin)
    error = error_of(closed, 429, "too_many_attempts")
    assert int(closed.headers["retry-after"]) >= 1
    assert "new PIN" in error["message"]


async def test_expired_pin_is_refused(client: Client, svc: Services, clock: FixedClock) -> None:
    verification_id = await start(client, phone(2))
    pin = await read_pin(svc, phone(2))
    clock.advance(timedelta(minutes=30))
    error = error_of(await confirm(client, verification_id, pin), 409, "pin_expired")
    assert "new one" in error["message"]
