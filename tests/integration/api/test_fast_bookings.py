"""Bookings answered in front of the framework (booking/fast_bookings.py) answer as the route
does: the same status, headers and body for every request either refuses, the same shape for
a booking made, each request handed on with its body intact, and every request counted once.

Every other test of `POST /api/v1/bookings` goes through the shortcut too (the app as served);
here the same requests also go to the framework's route behind the same edge."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec
import pytest
import structlog
from litestar import Litestar
from sqlalchemy import update

from kontingent.booking.fast_bookings import MAX_BODY, Bookings
from kontingent.booking.schemas import BookingOut
from kontingent.config import Settings
from kontingent.schema import slots
from tests.integration.api.test_booking_api import slot_booked
from tests.integration.api.test_fast_reads import _token, answer, serving
from tests.integration.api.test_observability import sample
from tests.support import BIELEFELD, person

PATH = "/api/v1/bookings"
OFFERS = f"/api/v1/centres/{BIELEFELD}/offers?vaccine=BNT&limit=2"
JSON = {"content-type": "application/json"}


def _body(slot_ids: list[int], i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"persons": [person(i)], "slot_ids": slot_ids, **extra}


def _refusals(token: str, slot_ids: list[int]) -> list[tuple[str, dict[str, str], bytes]]:
    """(case, headers, body) of requests refused without booking anything."""
    auth = {"authorization": f"Bearer {token}"}
    good = msgspec.json.encode(_body(slot_ids))
    deep = b'{"persons": ' + b"[" * 40 + b"]" * 40 + b', "slot_ids": [1]}'
    return [
        ("no token", JSON, good),
        ("a forged token", JSON | {"authorization": "Bearer not-a-token"}, good),
        ("not JSON by its type", auth | {"content-type": "text/plain"}, good),
        ("no type", auth, good),
        ("malformed", JSON | auth, b'{"persons": ['),
        ("too deep", JSON | auth, deep),
        ("no persons", JSON | auth, msgspec.json.encode({"slot_ids": slot_ids})),
        ("an unknown field", JSON | auth, msgspec.json.encode(_body(slot_ids, colour="blue"))),
        ("a key too long", JSON | auth | {"idempotency-key": "k" * 101}, good),
        ("an empty key", JSON | auth | {"idempotency-key": ""}, good),
        ("no such slots", JSON | auth, msgspec.json.encode(_body([9_999_998, 9_999_999]))),
        ("one slot only", JSON | auth, msgspec.json.encode(_body(slot_ids[:1]))),
        ("too large", JSON | auth, msgspec.json.encode(_body(slot_ids, colour="x" * MAX_BODY))),
        ("a bad language", JSON | auth, msgspec.json.encode(_body(slot_ids, language="fr"))),
    ]


async def test_refusals_are_answered_as_the_route_answers_them(
    app: Litestar, settings: Settings
) -> None:
    async with serving(app, settings) as (client, framework):
        token, slot_ids = await _token_and_offer(client, app)
        before = await slot_booked(client, slot_ids[0])
        statuses = set()
        for case, headers, body in _refusals(token, slot_ids):
            short = await client.post(PATH, content=body, headers=headers)
            full = await framework.post(PATH, content=body, headers=headers)
            assert answer(short) == answer(full), case
            statuses.add(short.status_code)
        assert statuses == {400, 401, 415, 422}, statuses
        assert await slot_booked(client, slot_ids[0]) == before


async def test_a_full_slot_is_refused_alike_with_the_same_fresh_offers(
    app: Litestar, settings: Settings
) -> None:
    async with serving(app, settings) as (client, framework):
        token, slot_ids = await _token_and_offer(client, app)
        async with app.state.services.db.write() as conn:
            await conn.execute(
                update(slots).where(slots.c.id == slot_ids[0]).values(booked=slots.c.capacity)
            )
        app.state.services.inventory.forget_readings()
        body, headers = msgspec.json.encode(_body(slot_ids)), JSON | _auth(token)
        short = await client.post(PATH, content=body, headers=headers)
        full = await framework.post(PATH, content=body, headers=headers)
        assert short.status_code == 409, short.text
        assert answer(short) == answer(full)
        assert short.json()["error"]["details"]["offers"], "fresh offers come with the refusal"
        scraped = (await client.get("/metrics")).text
    taken = {"action": "book", "outcome": "slot_taken"}
    assert sample(scraped, "kontingent_bookings_total", **taken) == 1


async def test_a_booking_is_answered_in_the_route_s_shape_and_counted_once(
    app: Litestar, settings: Settings
) -> None:
    async with serving(app, settings) as (client, framework):
        services = app.state.services
        offers = (await client.get(OFFERS)).json()["offers"]
        made = []
        for i, (asgi, offer) in enumerate(zip((client, framework), offers, strict=True)):
            slot_ids = [a["slot_id"] for a in offer["appointments"]]
            headers = JSON | _auth(await _token(client, services, i)) | {"idempotency-key": "k"}
            body = msgspec.json.encode(_body(slot_ids, i))
            made.append(await asgi.post(PATH, content=body, headers=headers))
            again = await asgi.post(PATH, content=body, headers=headers)
            assert answer(again) == answer(made[-1]), "the same key answers the same"
        short, full = made
        assert short.status_code == full.status_code == 201, (short.text, full.text)
        assert _without_length(short.headers) == _without_length(full.headers)
        views = [msgspec.json.decode(r.content, type=BookingOut) for r in made]
        assert [v.status for v in views] == ["booked", "booked"]
        assert [p.first_name for p in views[0].persons] == [person(0)["first_name"]]
        looked = await client.post(
            f"{PATH}/{views[0].code}/lookup", json={"birth_date": person(0)["birth_date"]}
        )
        assert looked.status_code == 200 and looked.json()["code"] == views[0].code
        scraped = (await client.get("/metrics")).text
    # The served app's two requests, each once (the framework's client is not measured).
    counted = {"route": PATH, "method": "POST", "status": "201"}
    assert sample(scraped, "kontingent_http_requests_total", **counted) == 2
    assert sample(scraped, "kontingent_bookings_total", action="book", outcome="booked") == 2


async def test_an_unexpected_error_is_answered_and_logged_as_the_application_does(
    app: Litestar, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(app, settings) as (client, framework):
        token, slot_ids = await _token_and_offer(client, app)

        async def broken(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(app.state.services.booking, "book", broken)
        body, headers = msgspec.json.encode(_body(slot_ids)), JSON | _auth(token)
        with structlog.testing.capture_logs() as logs:
            short = await client.post(PATH, content=body, headers=headers)
            full = await framework.post(PATH, content=body, headers=headers)
    assert short.status_code == 500
    assert answer(short) == answer(full)
    assert [e["error"] for e in logs if e["event"] == "unhandled_error"] == ["RuntimeError"] * 2


async def test_the_shortcut_leaves_to_the_framework_what_it_does_not_take(
    app: Litestar, settings: Settings
) -> None:
    """Requests it hands on have run nothing here, and get their body back unread."""
    bookings = Bookings(app.state.services, PATH)
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    for headers, body in [
        ([(b"content-type", b"application/json")], b"{}"),  # no length declared
        ([(b"content-type", b"text/plain"), (b"content-length", b"2")], b"{}"),
        ([(b"content-type", b"application/json"), (b"content-length", b"2")], b"[]"),
        ([(b"content-type", b"application/json"), (b"content-length", b"1")], b"{}"),
    ]:
        received = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive(received: list[Any] = received) -> Any:
            return received.pop(0)

        scope = {"path": PATH, "method": "POST", "headers": headers, "client": ("127.0.0.1", 1)}
        rest = await bookings.answer(scope, receive, send)
        assert rest is not None, headers
        assert await rest() == {"type": "http.request", "body": body, "more_body": False}
    assert sent == []


@pytest.mark.parametrize("chunks", [[b'{"persons": [], ', b'"slot_ids": []}']])
async def test_a_body_in_several_parts_is_read_whole(
    app: Litestar, settings: Settings, chunks: list[bytes]
) -> None:
    bookings = Bookings(app.state.services, PATH)
    body = b"".join(chunks)
    received = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]

    async def receive() -> Any:
        return received.pop(0)

    async def send(message: Any) -> None:
        raise AssertionError("an empty list of persons is the framework's to refuse")

    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    scope = {"path": PATH, "method": "POST", "headers": headers, "client": ("127.0.0.1", 1)}
    rest = await bookings.answer(scope, receive, send)
    assert rest is not None
    assert [await rest(), await rest()] == [
        {"type": "http.request", "body": chunks[0], "more_body": True},
        {"type": "http.request", "body": chunks[1], "more_body": False},
    ]


async def _token_and_offer(client: httpx.AsyncClient, app: Litestar) -> tuple[str, list[int]]:
    """A booking token of person 0's phone, and the slot ids of the first offer."""
    token = await _token(client, app.state.services, 0)
    offer = (await client.get(OFFERS)).json()["offers"][0]
    return token, [a["slot_id"] for a in offer["appointments"]]


def _auth(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _without_length(headers: httpx.Headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k != "content-length"}
