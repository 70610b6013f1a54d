"""Headers every answer carries, whichever part of the application wrote it.

Invariants kept here:
- Outside demo mode every answer says Strict-Transport-Security: a browser that has once
  reached the service over HTTPS never again asks for it over plain HTTP, where a network
  in between could read PINs and tokens or rewrite pages. (Browsers ignore the header on
  plain-HTTP answers, so a service behind a TLS proxy may send it always.) Demo mode runs on
  http://127.0.0.1, where the header would be wrong.
- Every answer says X-Content-Type-Options: nosniff, so no browser reads a JSON answer or a
  static file as a script or a page.
- Every answer under /api/ that did not choose its own Cache-Control gets `no-store`: the API
  answers with bookings, persons and tokens, which no browser or proxy may keep. Only the
  public reference data and the availability feed are left to be cached (`PUBLIC`).
"""

from __future__ import annotations

from typing import Any

from litestar.types import ASGIApp, Message, Receive, Send

API = "/api/"
# Public answers that name no person: left to their own (or no) Cache-Control.
PUBLIC = frozenset({"/api/v1/centres", "/api/v1/vaccines", "/api/v1/availability"})
HSTS = (b"strict-transport-security", b"max-age=31536000")
NOSNIFF = (b"x-content-type-options", b"nosniff")
NO_STORE = (b"cache-control", b"no-store")


def security_headers(app: ASGIApp, *, hsts: bool) -> ASGIApp:
    """`app` whose answers carry the headers of the module doc."""
    always = [HSTS, NOSNIFF] if hsts else [NOSNIFF]

    async def with_headers(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path: str = scope["path"]
        private = path.startswith(API) and path.rstrip("/") not in PUBLIC

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                headers += [h for h in always if h[0] not in names]
                if private and NO_STORE[0] not in names:
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    with_headers.__wrapped__ = app  # type: ignore[attr-defined]
    return with_headers
