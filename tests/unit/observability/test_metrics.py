"""The request metrics on a bare ASGI app: route templates as labels, statuses, booking
outcomes, and process counters fed by increments. No I/O: one process, in-memory values."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client import generate_latest

from kontingent.errors import Conflict
from kontingent.observability.metrics import (
    ERROR_CODE_KEY,
    Metrics,
    booking_outcome,
    measured,
    note_error_code,
)
from kontingent.observability.scrape import ProcessCounters


def app_answering(status: int, template: str | None, headers: list[Any] | None = None) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if template is not None:
            scope["path_template"] = template  # what Litestar's router sets
        await send({"type": "http.response.start", "status": status, "headers": headers or []})
        await send({"type": "http.response.body", "body": b""})

    return app


async def call(app: Any, method: str, path: str) -> None:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(_: dict[str, Any]) -> None:
        return None

    scope = {"type": "http", "method": method, "path": path, "state": {}}
    await app(scope, receive, send)


def exposition(metrics: Metrics) -> str:
    return generate_latest(metrics.registry(*metrics.own_metrics())).decode()


async def test_requests_are_labelled_by_template_never_by_path() -> None:
    metrics = Metrics()
    app = measured(app_answering(200, "/manage/{code}"), metrics)
    await call(app, "GET", "/manage/ABCD-EFGH-JK23")
    await call(app, "GET", "/manage/WXYZ-EFGH-JK23")
    await call(measured(app_answering(404, None), metrics), "GET", "/wp-admin")
    await call(measured(app_answering(200, "/x"), metrics), "BREW", "/x")
    text = exposition(metrics)
    assert (
        'kontingent_http_requests_total{method="GET",route="/manage/{code}",status="200"} 2.0'
        in text
    )
    assert 'route="unmatched",status="404"' in text
    assert 'method="OTHER"' in text
    assert "ABCD" not in text and "wp-admin" not in text
    assert (
        'kontingent_http_request_duration_seconds_count{method="GET",route="/manage/{code}"} 2.0'
        in text
    )


async def test_a_failing_handler_is_counted_as_500() -> None:
    metrics = Metrics()

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    app = measured(broken, metrics)
    with pytest.raises(RuntimeError):
        await call(app, "GET", "/")
    assert 'route="unmatched",status="500"} 1.0' in exposition(metrics)


async def test_booking_outcomes_come_from_the_domain_error_or_the_status() -> None:
    metrics = Metrics()
    booked = measured(app_answering(201, "/api/v1/bookings"), metrics)
    await call(booked, "POST", "/api/v1/bookings")

    async def taken(scope: Any, receive: Any, send: Any) -> None:
        scope["path_template"] = "/api/v1/bookings"
        note_error_code(Conflict("gone", code="slot_taken"), scope)
        await app_answering(409, None)(scope, receive, send)

    await call(measured(taken, metrics), "POST", "/api/v1/bookings")
    portal = measured(app_answering(303, "/book", [(b"location", b"/confirmation/X")]), metrics)
    await call(portal, "POST", "/book")
    text = exposition(metrics)
    assert 'kontingent_bookings_total{action="book",outcome="booked"} 2.0' in text
    assert 'kontingent_bookings_total{action="book",outcome="slot_taken"} 1.0' in text


def test_booking_outcome_words() -> None:
    assert booking_outcome("book", 201, b"", None) == "booked"
    assert booking_outcome("cancel", 303, b"/manage/ABCD", None) == "cancelled"
    assert booking_outcome("book", 303, b"/phone?note=expired", None) == "redirected"
    assert booking_outcome("book", 409, b"", None) == "slot_taken"
    assert booking_outcome("book", 409, b"", "already_booked") == "already_booked"
    assert booking_outcome("rebook", 429, b"", None) == "rate_limited"
    assert booking_outcome("book", 502, b"", None) == "error"
    assert booking_outcome("book", 400, b"", None) == "refused"


def test_note_error_code_ignores_other_exceptions() -> None:
    scope: dict[str, Any] = {"state": {}}
    note_error_code(ValueError("x"), scope)
    assert ERROR_CODE_KEY not in scope["state"]


def test_process_counters_add_only_what_is_new() -> None:
    counters = ProcessCounters()
    counters.sync({"kontingent_cache_hits": 5, "kontingent_cache_misses": 1})
    counters.sync({"kontingent_cache_hits": 12, "kontingent_cache_misses": 1})
    counters.sync({"kontingent_cache_hits": 12})
    values = {m.name: m.samples[0].value for c in counters.metrics() for m in c.collect()}
    assert values["kontingent_cache_hits"] == 12
    assert values["kontingent_cache_misses"] == 1
