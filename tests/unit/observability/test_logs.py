"""Personal data never reaches a log line: not through values, free text, tracebacks, SQL
errors or records of the standard library's `logging`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import date, datetime

import pytest
import structlog

from kontingent.observability.logs import configure_logging, log_format_for, reset_logging
from kontingent.observability.model import scrub_mapping, scrub_text

PHONE = "+49 170 1234567"
PHONE_COMPACT = "+491701234567"
EMAIL = "erika.mustermann@example.org"
BORN = "1939-05-01"
BORN_GERMAN = "01.05.1939"
CODE = "ABCD-EFGH-JK23"
SECRETS = (PHONE, PHONE_COMPACT, "1234567", EMAIL, "erika.mustermann", BORN, BORN_GERMAN, CODE)


@pytest.fixture
def out() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    configure_logging("json", "info", stream)
    yield stream
    reset_logging()


def assert_clean(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} reached the log: {text}"


def test_personal_values_never_reach_the_json_output(out: io.StringIO) -> None:
    log = structlog.get_logger("test")
    log.info(
        "booking_made",
        phone=PHONE_COMPACT,
        email=EMAIL,
        birth_date=date(1939, 5, 1),
        first_name="Erika",
        last_name="Mustermann",
        pin="123456",
        token="eyJhbGciOi.abcdefghijklmnopqrstuvwxyz",
        booking_code=CODE,
        note=f"call {PHONE} or write to {EMAIL}, born {BORN} ({BORN_GERMAN}), code {CODE}",
        nested={"people": [{"name": "Erika"}], "contact": [EMAIL, PHONE]},
        centre_id=3,
        last_error="timeout",
        at=datetime(2026, 1, 12, 9, 0),
    )
    line = json.loads(out.getvalue())
    assert_clean(out.getvalue())
    assert "Erika" not in out.getvalue() and "Mustermann" not in out.getvalue()
    assert "123456" not in out.getvalue()
    # What stays: enough to debug, nothing to identify.
    assert line["centre_id"] == 3 and line["last_error"] == "timeout"
    assert line["phone"] == "+4917***"
    assert line["email"] == "***@example.org"
    assert line["booking_code"] == "ABCD-****-****"
    assert line["event"] == "booking_made" and line["level"] == "info"


def test_tracebacks_and_sql_errors_are_masked(out: io.StringIO) -> None:
    log = structlog.get_logger("test")
    try:
        raise ValueError(
            f"duplicate key for {EMAIL} born {BORN_GERMAN}\n"
            f"[SQL: INSERT INTO persons ...]\n[parameters: ('Erika', 'Mustermann', '{BORN}')]"
        )
    except ValueError:
        log.exception("unhandled_error", path=f"/manage/{CODE}")
    assert_clean(out.getvalue())
    line = json.loads(out.getvalue())
    assert "ValueError" in line["exception"] and "[parameters: (hidden)]" in line["exception"]
    assert "Mustermann" not in line["exception"]


def test_standard_library_records_are_json_and_masked(out: io.StringIO) -> None:
    logging.getLogger("sqlalchemy.engine").warning("slow query for %s", PHONE)
    line = json.loads(out.getvalue())
    assert line["logger"] == "sqlalchemy.engine" and line["level"] == "warning"
    assert_clean(out.getvalue())


def test_debug_is_filtered_at_info(out: io.StringIO) -> None:
    structlog.get_logger("test").debug("noise")
    assert out.getvalue() == ""


def test_sql_parameters_without_digits_are_hidden() -> None:
    masked = scrub_text("IntegrityError\n[parameters: ('Erika', 'Mustermann')]\n(Background")
    assert "Erika" not in masked and "[parameters: (hidden)]" in masked


def test_timestamps_ids_and_numbers_are_kept() -> None:
    text = (
        "retry at 2026-01-12T09:00:00+01:00, outbox 1234567890, took 0.0123 s, 127.0.0.1:8000, "
        "return connection._execute_clauseelement(statement)"
    )
    assert scrub_text(text) == text
    assert scrub_mapping({"count": 5, "ok": True, "ratio": 0.5, "none": None}) == {
        "count": 5,
        "ok": True,
        "ratio": 0.5,
        "none": None,
    }


@pytest.mark.parametrize(
    "text",
    [
        "0170 1234567",
        "0170/1234567",
        "0049 170 1234567",
        "+49 (0)170 123 45 67",
        "Authorization: Bearer abc.def-ghi_jkl",
        "a@b.de",
        "born 1.5.1939",
        "token abc123XYZ.491701234567.1768208400.q0ANvYvNw0m2bJtXk4pZ9s1cM8fT7yQe3LhR5uWdG6o",
    ],
)
def test_free_text_forms_are_masked(text: str) -> None:
    masked = scrub_text(text)
    assert masked != text
    assert "1234567" not in masked and "abc.def" not in masked and "a@b" not in masked


def test_auto_format_is_console_in_demo_and_json_otherwise() -> None:
    assert log_format_for("auto", demo=True) == "console"
    assert log_format_for("auto", demo=False) == "json"
    assert log_format_for("json", demo=True) == "json"
