"""Errors a use case can answer with. Each carries the wire code, the HTTP status and a message
that tells the caller what to fix; the web layer renders them, the domain never sees HTTP."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What an unexpected error (a bug) is answered with: 500 `internal_error`.
UNEXPECTED = (
    "something went wrong on our side; nothing was booked unless a booking code was shown: "
    "try again in a moment"
)


def error_document(
    code: str, message: str, details: Mapping[str, object] | None = None
) -> dict[str, Any]:
    """The body of every error answer of the API: what went wrong and what to do instead."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


class KontingentError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class InvalidInput(KontingentError):
    status = 422
    code = "invalid_input"


class NotFound(KontingentError):
    status = 404
    code = "not_found"


class Unauthorized(KontingentError):
    status = 401
    code = "unauthorized"


class Forbidden(KontingentError):
    status = 403
    code = "forbidden"


class Conflict(KontingentError):
    status = 409
    code = "conflict"


class RateLimited(KontingentError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class Overloaded(RateLimited):
    """The service has no database connection free for this request within a few seconds.
    Answered at once with 503 and Retry-After: a client that waits longer has given up
    anyway, and a quick refusal costs the server far less than a queue that only grows."""

    status = 503
    code = "overloaded"


class DatabaseUnavailable(RateLimited):
    """The database could not serve this request: it cannot be reached, or a statement was
    cancelled by its server-side `statement_timeout` or `lock_timeout`. Answered 503 with
    Retry-After like an overload: the client may send the same request again (bookings with
    their Idempotency-Key), and nothing half-done stays behind (kontingent/outage.py)."""

    status = 503
    code = "database_unavailable"
