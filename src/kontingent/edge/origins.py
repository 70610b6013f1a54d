"""Who may change state through the API from a browser: this site's own pages, and the
origins an operator lists in KONTINGENT_CORS_ORIGINS.

Invariants kept here:
- A POST, PUT, PATCH or DELETE under /api/ that carries an `Origin` header is refused with
  403 `forbidden_origin` unless that origin is this site (its host and port are the request's
  Host) or listed. Browsers send Origin on every cross-site request they make on a page's
  behalf, including the "simple" ones that need no preflight; requests without it (curl,
  servers, apps) are not browsers acting for someone else, and pass. `Origin: null`
  (sandboxed frames, local files) is never this site.
- Listed origins get CORS answers: preflights answered here (204), their calls tagged with
  Access-Control-Allow-Origin. Nothing is answered for other origins, so a browser keeps
  their pages from reading our answers. No credentials are allowed: the API authenticates
  with bearer tokens, never with cookies.
- This runs in front of the whole application, the waiting room's shortcut included, so
  no route can forget it. The portal (not under /api/) has its CSRF tokens instead.

The header values come from Litestar's CORSConfig (the one place that knows the rules);
only when to use them is decided here, because Litestar's own middleware would apply to
the portal too and sit behind the shortcut.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec
from litestar.config.cors import CORSConfig
from litestar.types import ASGIApp, Message, Receive, Send

from kontingent.config import Settings, cors_origins

API = "/api/"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}
# What a browser client of the API sends and needs to read, beyond the CORS-safe defaults.
_ALLOW_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-None-Match",
    "X-Admission",
]
_EXPOSE_HEADERS = ["ETag", "Location", "Retry-After"]
_METHODS: list[Any] = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    cors: CORSConfig | None  # None: no origin is listed, pages of this site only

    @classmethod
    def of(cls, settings: Settings) -> OriginPolicy:
        listed = cors_origins(settings.cors_origins)
        if not listed:
            return cls(None)
        config = CORSConfig(
            allow_origins=listed,
            allow_methods=_METHODS,
            allow_headers=_ALLOW_HEADERS,
            expose_headers=_EXPOSE_HEADERS,
            allow_credentials=False,
        )
        return cls(config)

    def listed(self, origin: str) -> bool:
        return self.cors is not None and self.cors.is_origin_allowed(origin.lower())


def same_site(origin: str, host: str | None) -> bool:
    """Whether `origin` is the site the request was sent to (its Host header). The scheme is
    not compared: behind a TLS proxy the application sees http for https pages."""
    if host is None or origin == "null":
        return False
    try:
        parts = urlsplit(origin.lower())
    except ValueError:
        return False
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None or not parts.netloc:
        return False
    return parts.netloc.removesuffix(default) == host.lower().removesuffix(default)


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def check_origins(app: ASGIApp, policy: OriginPolicy) -> ASGIApp:
    """`app` with the API's origin rule (see the module doc) in front of it."""

    async def guarded(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API):
            await app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if origin is None:
            await app(scope, receive, send)
        elif policy.listed(origin):
            await _cors(app, policy, origin, scope, receive, send)
        elif scope["method"] in WRITES and not same_site(origin, _header(scope, b"host")):
            await _refuse(origin, send)
        else:
            await app(scope, receive, send)

    guarded.__wrapped__ = app  # type: ignore[attr-defined]
    return guarded


async def _cors(
    app: ASGIApp, policy: OriginPolicy, origin: str, scope: Any, receive: Receive, send: Send
) -> None:
    config = policy.cors
    assert config is not None  # only listed origins come here
    allow = "*" if config.is_allow_all_origins else origin
    if scope["method"] == "OPTIONS" and _header(scope, b"access-control-request-method"):
        headers = {**config.preflight_headers, "Access-Control-Allow-Origin": allow}
        await send({"type": "http.response.start", "status": 204, "headers": _raw(headers)})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        return
    extra = _raw({**config.simple_headers, "Access-Control-Allow-Origin": allow, "Vary": "Origin"})

    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    await app(scope, receive, send_with_cors)


async def _refuse(origin: str, send: Send) -> None:
    shown = origin[:200]
    body = msgspec.json.encode(
        {
            "error": {
                "code": "forbidden_origin",
                "message": f"the API takes changes only from pages of its own site, not from "
                f"{shown}: call it from a server or an app (they send no Origin header), or "
                "ask the operator to list this origin in KONTINGENT_CORS_ORIGINS",
                "details": {"origin": shown},
            }
        }
    )
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    await send({"type": "http.response.start", "status": 403, "headers": _raw(headers)})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _raw(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
