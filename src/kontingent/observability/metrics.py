"""Prometheus metrics of the web processes: requests, latency and booking outcomes.

Invariants kept here:
- Labels are bounded: the route's path template (`/manage/{code}`, never the code), the
  method (one of a fixed set), the status; a path no route serves is `unmatched`. A booking
  outcome is the domain error's code (a fixed set in the source) or one of a few words.
- A request answered 503 because the database failed under it is counted once for the
  incident that failed it (kontingent/outage.py), whatever part of the app answered it.
- The request path costs a few microseconds: label children are looked up once and kept,
  nothing is formatted or allocated per request beyond a closure and a tuple.
- With several worker processes every value lives in prometheus_client's multiprocess files
  (`PROMETHEUS_MULTIPROC_DIR`, prepared by `kontingent serve` before the workers start), and
  any worker's `/metrics` reports the sum over all of them; without it, this process only.
- Metric objects belong to one `Metrics` instance and no global registry, so several apps in
  one process (tests) do not collide; nothing is created at import.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from time import perf_counter
from typing import Any

import structlog
from litestar.types import ASGIApp, Receive, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from kontingent.errors import KontingentError
from kontingent.outage import request_answered, request_started

log = structlog.get_logger("kontingent.access")

LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
UNMATCHED = "unmatched"
ERROR_CODE_KEY = "kontingent.error_code"
# (method, route template) -> what a booking request does; its outcome is counted apart.
BOOKING_ROUTES: Mapping[tuple[str, str], str] = {
    ("POST", "/api/v1/bookings"): "book",
    ("POST", "/book"): "book",
    ("DELETE", "/api/v1/bookings/{code}"): "cancel",
    ("POST", "/api/v1/bookings/{code}/cancel"): "cancel",
    ("POST", "/manage/{code}/cancel"): "cancel",
    ("POST", "/manage/{code}/rebook"): "rebook",
}
SUCCESS = {"book": "booked", "cancel": "cancelled", "rebook": "rebooked"}
# Where the portal sends a person after success; any other redirect means "start again".
SUCCESS_PAGES = (b"/confirmation/", b"/manage/")
STATUS_OUTCOMES = {409: "slot_taken", 422: "refused", 429: "rate_limited", 503: "unavailable"}


def multiprocess_dir() -> str | None:
    """prometheus_client's own convention: the variable is read by the library at import."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def booking_outcome(action: str, status: int, location: bytes, error_code: str | None) -> str:
    """What a booking request came to, in words an operator alerts on."""
    if error_code:
        return error_code
    if status < 300 or (status < 400 and location.startswith(SUCCESS_PAGES)):
        return SUCCESS[action]
    if status < 400:
        return "redirected"  # the portal sent the person back a step (session ran out)
    if status >= 500:
        return "error"
    return STATUS_OUTCOMES.get(status, "refused")


class Metrics:
    def __init__(self, multiprocess: str | None = None) -> None:
        self.multiprocess = multiprocess
        disable_created_metrics()  # type: ignore[no-untyped-call]  # `_created`: noise
        self.requests = Counter(
            "kontingent_http_requests",
            "HTTP requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=None,
        )
        self.latency = Histogram(
            "kontingent_http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer, by route template",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=None,
        )
        self.bookings = Counter(
            "kontingent_bookings",
            "Booking requests (book, cancel, rebook) by what they came to",
            ["action", "outcome"],
            registry=None,
        )
        self._count: dict[tuple[str, str, int], Callable[[], None]] = {}
        self._time: dict[tuple[str, str], Callable[[float], None]] = {}

    def own_metrics(self) -> list[Counter | Histogram]:
        return [self.requests, self.latency, self.bookings]

    def registry(self, *collectors: Collector) -> CollectorRegistry:
        """What `/metrics` renders: with several processes, the values in their files; then
        `collectors` (without multiprocess files, pass `own_metrics()` among them)."""
        registry = CollectorRegistry(auto_describe=True)
        if self.multiprocess:
            MultiProcessCollector(registry, path=self.multiprocess)  # type: ignore[no-untyped-call]
        for collector in collectors:
            registry.register(collector)
        return registry

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        count = self._count.get((route, method, status))
        if count is None:
            count = self.requests.labels(route, method, str(status)).inc
            self._count[(route, method, status)] = count
        count()
        timing = self._time.get((route, method))
        if timing is None:
            timing = self.latency.labels(route, method).observe
            self._time[(route, method)] = timing
        timing(seconds)

    def booking(self, action: str, outcome: str) -> None:
        self.bookings.labels(action, outcome).inc()


def note_error_code(exc: BaseException, scope: Any) -> None:
    """Litestar's after-exception hook: keep the domain error's code for the booking count."""
    if isinstance(exc, KontingentError):
        scope.setdefault("state", {})[ERROR_CODE_KEY] = exc.code


def measured(app: ASGIApp, metrics: Metrics, access_log: bool = False) -> ASGIApp:
    """Wrap the application: count and time every HTTP request, once it has been answered."""

    async def middleware(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = perf_counter()
        answer: list[Any] = [500, b""]  # status, Location (kept for booking routes only)
        failed_under, watching = request_started()  # database incidents that refuse it

        async def send_noting_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                answer[0] = message["status"]
                if 300 <= message["status"] < 400:
                    answer[1] = _location(message)
            await send(message)

        try:
            await app(scope, receive, send_noting_status)
        finally:
            request_answered(failed_under, watching, int(answer[0]))
            _record(metrics, scope, answer, perf_counter() - started, access_log)

    middleware.__wrapped__ = app  # type: ignore[attr-defined]  # what it wraps (bench, tests)
    return middleware


def _location(message: Any) -> bytes:
    for name, value in message.get("headers", ()):
        if name.lower() == b"location":
            return bytes(value)
    return b""


def _record(
    metrics: Metrics, scope: Any, answer: list[Any], seconds: float, access_log: bool
) -> None:
    route = scope.get("path_template") or UNMATCHED
    method = scope["method"] if scope["method"] in METHODS else "OTHER"
    status = int(answer[0])
    metrics.observe(route, method, status, seconds)
    action = BOOKING_ROUTES.get((method, route))
    if action is not None:
        code = scope.get("state", {}).get(ERROR_CODE_KEY)
        metrics.booking(action, booking_outcome(action, status, answer[1], code))
    if access_log:
        log.info("request", method=method, route=route, status=status, ms=round(seconds * 1e3, 2))
