"""Database outages: which failures mean "the database cannot serve now", and one log line
per spell of them instead of a traceback per request.

Invariants kept here:
- A failure to get a connection at all (refused, timed out, shutting down, too many
  clients, login refused), a connection that broke under a statement, and a statement
  cancelled by the server's `statement_timeout` or `lock_timeout` become
  `DatabaseUnavailable` (503 with Retry-After). Anything else the database says is a bug or
  bad data and stays a 500 with its traceback.
- Serialization failures and deadlocks are never classified here: `Database` retries them.
- An incident opens with the first failure and logs one warning; it closes at the first
  success after `quiet_s` without a failure and logs one more line with what it cost (the
  requests refused, the failures, how long). Failures alternating with successes (one locked
  slot among many free ones) stay one incident.
- A request is counted as refused once, however many statements failed under it, and only
  when it was answered 503; background work (relay, jobs) fails without counting requests.
- The success path costs one attribute test.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Literal

import asyncpg
import structlog
from sqlalchemy.exc import DBAPIError

from kontingent.errors import DatabaseUnavailable

log = structlog.get_logger(__name__)

Reason = Literal["unreachable", "timeout"]
RETRY_AFTER_S = 5  # a PostgreSQL restart or failover takes a few seconds
QUIET_S = 5.0
# SQLSTATE classes of a database that cannot serve now: connection exception (08),
# insufficient resources such as too many clients (53), login refused (28), no such
# database (3D); and shutting down or starting up (57P01-57P03).
_UNREACHABLE_CLASSES = ("08", "53", "28", "3D")
_UNREACHABLE = {"57P01", "57P02", "57P03"}
_TIMEOUT = {"57014", "55P03"}  # query_canceled (statement_timeout), lock_not_available


def _sqlstate(exc: BaseException) -> str | None:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    return code if isinstance(code, str) else None


def classify(exc: BaseException) -> Reason | None:
    """Why a statement's `exc` means the database cannot serve now; None for anything else.

    Plain socket errors are not classified here: inside a use case they may come from
    another service. Connecting, and the asyncpg driver's work, treat them as unreachable."""
    code = _sqlstate(exc)
    if code in _TIMEOUT:
        return "timeout"
    if code is not None and (code in _UNREACHABLE or code.startswith(_UNREACHABLE_CLASSES)):
        return "unreachable"
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return "unreachable"  # the connection broke under the statement (a restart)
    if isinstance(exc, asyncpg.exceptions.ConnectionDoesNotExistError):
        return "unreachable"  # lost during a statement
    if isinstance(exc, asyncpg.InterfaceError) and "connection is closed" in str(exc):
        return "unreachable"  # lost before one (SQLAlchemy's is_disconnect reads it so too)
    return None


def describe(exc: BaseException) -> str:
    """The error in one line, without the statement SQLAlchemy adds to its text."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {lines[0]}" if lines else type(inner).__name__


@dataclass
class Incident:
    """One spell of failures: what the first failure was, when, and what it cost."""

    reason: Reason
    error: str
    started: float
    last_failure: float
    failures: int = 0
    refused: int = 0
    totals: OutageTotals | None = field(default=None, repr=False)  # its process's totals


@dataclass
class OutageTotals:
    """This process's running totals, for the metrics (`observability/scrape.py`)."""

    incidents: int = 0
    refused: int = 0
    timeouts: int = 0


# The incidents that failed statements of the request being served (set by `measured`).
_REQUEST: ContextVar[list[Incident] | None] = ContextVar("kontingent_db_incidents", default=None)


def request_started() -> tuple[list[Incident], Token[list[Incident] | None]]:
    """Watch the current request: the failures of its statements are noted in the list."""
    seen: list[Incident] = []
    return seen, _REQUEST.set(seen)


def request_answered(
    seen: list[Incident], token: Token[list[Incident] | None], status: int
) -> None:
    """Count the request as refused by the incident that failed it, if it was answered 503."""
    _REQUEST.reset(token)
    if seen and status == 503:
        incident = seen[-1]
        incident.refused += 1
        if incident.totals is not None:
            incident.totals.refused += 1


class Outages:
    """The incidents of one `Database`: opened by failures, closed by a success after quiet."""

    def __init__(
        self, quiet_s: float = QUIET_S, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.quiet_s = quiet_s
        self.monotonic = monotonic
        self.current: Incident | None = None
        self.totals = OutageTotals()

    def failed(self, exc: BaseException, reason: Reason) -> DatabaseUnavailable:
        """Note a failure; the error to answer the request with (raise it from `exc`)."""
        now = self.monotonic()
        incident = self.current
        if incident is None:
            incident = self.current = Incident(reason, describe(exc), now, now, totals=self.totals)
            self.totals.incidents += 1
            log.warning("database_unavailable", reason=reason, error=incident.error)
        incident.failures += 1
        incident.last_failure = now
        if reason == "timeout":
            self.totals.timeouts += 1
        seen = _REQUEST.get()
        if seen is not None:
            seen.append(incident)
        return _answer(reason)

    def succeeded(self) -> None:
        """Note a success; it closes the incident once failures stopped `quiet_s` ago."""
        incident = self.current
        if incident is None or self.monotonic() - incident.last_failure < self.quiet_s:
            return
        self.current = None
        log.warning(
            "database_recovered",
            reason=incident.reason,
            error=incident.error,
            refused=incident.refused,
            failures=incident.failures,
            lasted_s=round(incident.last_failure - incident.started, 1),
        )


def _answer(reason: Reason) -> DatabaseUnavailable:
    if reason == "timeout":
        what = "the database took too long to answer, so nothing was done"
    else:
        what = "the database cannot be reached right now"
    return DatabaseUnavailable(
        f"{what}: try again in {RETRY_AFTER_S} seconds (nothing was booked unless a booking "
        "code was shown; the same Idempotency-Key never books twice)",
        retry_after_s=RETRY_AFTER_S,
    )
