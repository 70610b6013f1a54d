"""JSON request bodies of the API: sent as JSON, and nested no deeper than a client needs.

Invariants kept here:
- A route that takes a JSON body gets one only with `Content-Type: application/json` (any
  parameters, such as a charset) or `application/<name>+json`; anything else is answered 415
  `unsupported_media_type` before the body is read. A browser sends text/plain, form and
  multipart bodies to any site without asking it first (a "simple" request); a JSON body it
  sends across sites only after a preflight, which only listed origins pass (origins.py).
- A body whose arrays and objects nest deeper than MAX_DEPTH is answered 400
  `malformed_json` (reason `too_deep`) before any decoder sees it: msgspec recurses once per
  level and fails with RecursionError near 1,000 levels, which would be a 500 and a logged
  traceback for every such request. No body of this API nests more than four levels.
- The body is read once, through Litestar's Request: its size limit holds, and the route
  decodes the same bytes from the request's cache.
"""

from __future__ import annotations

import re
from typing import Any

from litestar.enums import RequestEncodingType
from litestar.params import BodyKwarg
from litestar.types import ASGIApp, Receive, Send

from kontingent.errors import KontingentError

MAX_DEPTH = 32
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_JSON_TYPE = re.compile(r"application/(?:[a-z0-9!#$&^_.-]+\+)?json")
# A JSON string: quotes around anything but quotes and backslashes, or escapes.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_SQUARE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class UnsupportedMediaType(KontingentError):
    status = 415
    code = "unsupported_media_type"


def nests_deeper(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether the arrays and objects of `body` nest more than `limit` levels deep (brackets
    inside strings do not count). Byte operations only, no Python loop per byte: each round
    removes every innermost pair, so a body that is still not empty of pairs after `limit`
    rounds nests deeper; unclosed openings count as levels too (a truncated body)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # it cannot nest deeper than it opens: nearly every body stops here
    brackets = _STRING.sub(b"", body).translate(_SQUARE, _NOT_BRACKETS)
    for _ in range(limit):
        inner = brackets.replace(b"[]", b"")
        if inner == brackets:
            break
        brackets = inner
    # What is left is pairs deeper than `limit`, or openings and closings without partners;
    # the unclosed openings add to the depth of everything after them.
    return b"[]" in brackets or brackets.count(b"[") > limit


def _takes_json(handler: Any) -> bool:
    field = handler.parsed_data_field
    if field is None:
        return False
    kwarg = field.kwarg_definition
    media = kwarg.media_type if isinstance(kwarg, BodyKwarg) else RequestEncodingType.JSON
    return bool(media == RequestEncodingType.JSON)


def _content_type(scope: Any) -> str:
    for key, value in scope["headers"]:
        if key == b"content-type":
            return str(value.decode("latin-1"))
    return ""


def declares_json(content_type: str) -> bool:
    """Whether a Content-Type value declares a JSON body (any parameters)."""
    return _JSON_TYPE.fullmatch(content_type.partition(";")[0].strip().lower()) is not None


def check_json_body(scope: Any, content_type: str) -> None:
    """Refuse a request to a JSON route whose body is not declared as JSON."""
    if not declares_json(content_type):
        sent = f"Content-Type {content_type[:100]!r}" if content_type else "no Content-Type"
        raise UnsupportedMediaType(
            f"{scope['method']} {scope['path']} takes a JSON body: send it with the header "
            f"Content-Type: application/json (this request had {sent})",
            expected="application/json",
            received=content_type[:100] or None,
        )


def check_depth(body: bytes) -> None:
    if nests_deeper(body):
        raise KontingentError(
            f"the request body nests arrays and objects more than {MAX_DEPTH} levels deep; "
            "no request of this API needs more than a few: send the fields as documented in "
            "/api/v1/openapi.json",
            code="malformed_json",
            reason="too_deep",
            max_depth=MAX_DEPTH,
        )


def json_bodies(app: ASGIApp) -> ASGIApp:
    """Middleware for the API's routes: the two checks of the module doc."""

    async def middleware(scope: Any, receive: Receive, send: Send) -> None:
        if scope["method"] in BODY_METHODS and _takes_json(scope["route_handler"]):
            check_json_body(scope, _content_type(scope))
            request = scope["litestar_app"].request_class(scope, receive)
            check_depth(await request.body())
        await app(scope, receive, send)

    return middleware
