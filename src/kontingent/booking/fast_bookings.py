"""`POST /api/v1/bookings` answered in front of the framework.

In a rush every admitted person sends this request, and the raw database ceiling is what
it is measured against (bench/README.md): Litestar's routing, signature model, dependency
injection, middleware and response machinery cost about an eighth of the service's CPU per
booking (in process 1.13 ms through the framework, 0.99 ms answered here).

Invariants kept here:
- The answer is the route's answer: the same calls in the same order (token, rate limit,
  waiting room, `Booking.book`), the same `BookingOut` with 201, the same error body, status
  and Retry-After for every `KontingentError` those calls raise, and the same error code
  noted for the metrics (tests/integration/test_fast_bookings.py sends the same requests to
  both and compares).
- Only a plain request is answered here: a JSON body of a declared length up to
  `MAX_BODY`, no deeper than the API allows, that decodes into `BookingIn`, with each of the
  route's headers at most once and an Idempotency-Key of 1 to 100 characters. Any other
  request goes to the application with its body replayed unchanged, and is answered there
  the documented way (415, 400, 422, 413). Nothing has run for it here.
- Nothing is answered twice: from the first call on (the token check), every outcome is
  answered here, an unexpected error as the application answers one (500, logged once).
"""

from __future__ import annotations

from typing import Any

import msgspec
import structlog
from litestar import Litestar
from litestar.types import ASGIApp, Receive, Send

from kontingent.booking.routes import book
from kontingent.booking.schemas import BookingIn, BookingOut
from kontingent.edge.bodies import declares_json, nests_deeper
from kontingent.edge.shortcuts import route_template, send_json
from kontingent.errors import UNEXPECTED, KontingentError, RateLimited, error_document
from kontingent.observability.metrics import note_error_code
from kontingent.services import Services

log = structlog.get_logger(__name__)

PATH = "/api/v1/bookings"
MAX_BODY = 16 * 1024  # a booking for two is under 1 KB; a larger one goes the long way
_HEADERS = {b"authorization", b"idempotency-key", b"x-admission", b"content-type"}
_decode = msgspec.json.Decoder(BookingIn).decode
_encode = msgspec.json.Encoder().encode

Headers = dict[bytes, str]


def _plain_headers(scope: Any) -> tuple[Headers, int] | None:
    """The route's headers and the body's declared length, or None unless each of those
    headers came at most once, the body is declared JSON and its length is small."""
    found: Headers = {}
    length = -1
    for key, value in scope["headers"]:
        if key == b"content-length":
            if length >= 0 or not value.isdigit() or len(value) > 6:
                return None
            length = int(value)
        elif key in _HEADERS:
            if key in found:
                return None
            found[key] = value.decode("latin-1")
    if not 0 < length <= MAX_BODY or not declares_json(found.get(b"content-type", "")):
        return None
    key = found.get(b"idempotency-key")
    if key is not None and not 1 <= len(key) <= 100:
        return None
    return found, length


async def _read(receive: Receive, length: int) -> tuple[bytes | None, list[Any]]:
    """The body (None when it is longer than declared or the client went away) and the
    messages read, to replay to the application when it answers instead."""
    chunks: list[bytes] = []
    messages: list[Any] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > length:
            return None, messages
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), messages


def _replaying(messages: list[Any], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Any:
        return pending.pop(0) if pending else await receive()

    return replay


class Bookings:
    """Answers plain booking requests (see the module doc)."""

    def __init__(self, services: Services, template: str) -> None:
        self.services = services
        self.template = template  # the route's name in the metrics

    async def answer(self, scope: Any, receive: Receive, send: Send) -> Receive | None:
        """None when answered, else the `receive` to hand the request on with."""
        plain = _plain_headers(scope)
        if plain is None:
            return receive
        headers, length = plain
        body, messages = await _read(receive, length)
        try:
            data = None if body is None or nests_deeper(body) else _decode(body)
        except msgspec.DecodeError:  # ValidationError included
            data = None
        if data is None:
            return _replaying(messages, receive)
        scope["path_template"] = self.template
        try:
            out = await self._book(scope, headers, data)
        except KontingentError as exc:
            note_error_code(exc, scope)
            await _send_error(send, exc)
            return None
        except Exception as exc:  # as the application's on_unexpected answers it
            log.exception("unhandled_error", path=scope["path"], error=type(exc).__name__)
            await send_json(send, 500, _encode(error_document("internal_error", UNEXPECTED)))
            return None
        await send_json(send, 201, _encode(out))
        return None

    async def _book(self, scope: Any, headers: Headers, data: BookingIn) -> BookingOut:
        s = self.services
        claims = s.verification.read_token(headers.get(b"authorization"))
        await s.limits.enforce(scope, "booking", claims.phone)
        persons = [p.as_fields() for p in data.persons]
        async with s.waiting_room.booking(headers.get(b"x-admission")) as admission:
            view = await s.booking.book(
                claims,
                persons,
                data.slot_ids,
                headers.get(b"idempotency-key"),
                admission=admission,
                language=data.language,
                vaccine=data.vaccine,
            )
        return BookingOut.of(view)


async def _send_error(send: Send, exc: KontingentError) -> None:
    headers = []
    if isinstance(exc, RateLimited):
        headers.append((b"retry-after", str(exc.retry_after_s).encode()))
    body = _encode(error_document(exc.code, exc.message, exc.details))
    await send_json(send, exc.status, body, headers)


def answering_bookings(app: Litestar, handler: ASGIApp, services: Services) -> ASGIApp:
    """`handler` with plain booking requests answered before it (see the module doc)."""
    bookings = Bookings(services, route_template(app, book))

    async def shortcut(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == PATH:
            rest = await bookings.answer(scope, receive, send)
            if rest is None:
                return
            receive = rest
        await handler(scope, receive, send)

    shortcut.__wrapped__ = handler  # type: ignore[attr-defined]
    return shortcut
