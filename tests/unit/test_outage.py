"""Database incidents (kontingent.outage): which failures are outages, one warning when a
spell of them begins, one line with its cost when it ends after a quiet spell, and each
refused request counted once."""

from __future__ import annotations

from typing import Any

import asyncpg
import structlog

from kontingent.errors import DatabaseUnavailable
from kontingent.outage import (
    Outages,
    classify,
    describe,
    request_answered,
    request_started,
)


class Ticking:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_timeouts_and_lost_connections_are_outages_and_nothing_else_is() -> None:
    assert classify(asyncpg.QueryCanceledError("statement timeout")) == "timeout"
    assert classify(asyncpg.LockNotAvailableError("lock timeout")) == "timeout"
    assert classify(asyncpg.CannotConnectNowError("starting up")) == "unreachable"
    assert classify(asyncpg.AdminShutdownError("terminating")) == "unreachable"
    assert classify(asyncpg.TooManyConnectionsError("too many")) == "unreachable"
    assert classify(asyncpg.InterfaceError("connection is closed")) == "unreachable"
    assert classify(asyncpg.SerializationError("retry me")) is None  # Database retries it
    assert classify(asyncpg.DeadlockDetectedError("retry me")) is None
    assert classify(asyncpg.UniqueViolationError("a bug or bad data")) is None
    assert classify(asyncpg.InterfaceError("another operation is in progress")) is None
    assert classify(ConnectionRefusedError()) is None  # only where the socket is the database's


def test_a_burst_of_failures_is_one_incident_logged_once() -> None:
    clock = Ticking()
    outages = Outages(quiet_s=5, monotonic=clock)
    with structlog.testing.capture_logs() as logs:
        for _ in range(40):
            error = outages.failed(ConnectionRefusedError(111, "refused"), "unreachable")
            clock.now += 0.1
    assert isinstance(error, DatabaseUnavailable)
    assert (error.status, error.code, error.retry_after_s) == (503, "database_unavailable", 5)
    assert [x["event"] for x in logs] == ["database_unavailable"]
    assert logs[0]["error"] == "ConnectionRefusedError: [Errno 111] refused"
    assert outages.totals.incidents == 1


def test_the_incident_ends_at_a_success_after_a_quiet_spell_with_its_cost() -> None:
    clock = Ticking()
    outages = Outages(quiet_s=5, monotonic=clock)
    with structlog.testing.capture_logs() as logs:
        for _ in range(3):  # failures among successes: one locked slot among free ones
            seen, token = request_started()
            outages.failed(asyncpg.LockNotAvailableError("lock timeout"), "timeout")
            outages.failed(asyncpg.LockNotAvailableError("lock timeout"), "timeout")
            request_answered(seen, token, 503)  # one request, however many failures
            clock.now += 2
            outages.succeeded()
        clock.now += 4
        outages.succeeded()
        outages.succeeded()
    ended: list[dict[str, Any]] = [x for x in logs if x["event"] == "database_recovered"]
    assert [x["event"] for x in logs] == ["database_unavailable", "database_recovered"]
    assert (ended[0]["refused"], ended[0]["failures"], ended[0]["lasted_s"]) == (3, 6, 4.0)
    assert (outages.totals.refused, outages.totals.timeouts) == (3, 6)
    assert outages.current is None


def test_a_request_answered_otherwise_is_not_counted_as_refused() -> None:
    outages = Outages(monotonic=Ticking())
    seen, token = request_started()
    outages.failed(asyncpg.AdminShutdownError("terminating"), "unreachable")
    request_answered(seen, token, 200)  # /metrics leaves out what it could not read
    outages.failed(asyncpg.AdminShutdownError("terminating"), "unreachable")  # no request
    assert outages.totals.refused == 0
    assert outages.current is not None and outages.current.failures == 2


def test_the_logged_error_is_one_line_without_the_statement() -> None:
    assert describe(asyncpg.QueryCanceledError("canceling statement\nDETAIL: x")) == (
        "QueryCanceledError: canceling statement"
    )
    assert describe(TimeoutError()) == "TimeoutError"
