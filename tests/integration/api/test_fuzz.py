"""Bad-input fuzzing of the whole JSON API against its own OpenAPI document (schemathesis,
in process over ASGI, on SQLite with the demo data).

For every operation, generated requests (valid and invalid) must never get a 5xx; every
error answer must be JSON of the documented shape `{"error": {"code", "message",
"details"}}`; and every answer must conform to the schema the API publishes. Booking calls
carry a valid bearer token, so the fuzzing reaches the validation of persons and slots.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import hypothesis.errors
import pytest
import schemathesis
from litestar import Litestar
from schemathesis import Case, GenerationMode, checks

from kontingent.app import create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.verification.model import issue_token
from tests.support import T0

SECRET = "fuzz-secret-" + "x" * 20
EXAMPLES = 20  # per operation and mode: the whole run stays under half a minute


@pytest.fixture
def fuzz_app(sqlite_template: Path, tmp_path: Path) -> Iterator[Litestar]:
    path = tmp_path / "fuzz.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}",
        demo=True,
        availability_ttl_s=0,
        embedded_relay=False,
        secret_key=SECRET,
    )
    yield create_app(settings, FixedClock(T0))


@pytest.fixture
def api_schema(fuzz_app: Litestar) -> Any:
    return schemathesis.openapi.from_asgi("/api/v1/openapi.json", fuzz_app)


CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def error_has_the_documented_shape(ctx: Any, response: Any, case: Case) -> bool | None:
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (response.status_code, content_type)
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and len(error["message"]) > 10, error
    assert isinstance(error["details"], dict), error
    return None


def fuzz(operation: Any, mode: GenerationMode, token: str) -> list[str]:
    """Run generated cases of one operation; the failures, in words."""
    failures: list[str] = []

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(hypothesis.HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Case) -> None:
        headers = {"Authorization": f"Bearer {token}"} if case.path == "/bookings" else {}
        try:
            case.call_and_validate(
                headers=headers, checks=[*CHECKS, error_has_the_documented_shape]
            )
        except (Exception, BaseExceptionGroup) as exc:  # collect: one run names them all
            failures.append(f"{operation.label} [{mode.value}]: {str(exc)[:1500]}")

    # An operation without inputs has no invalid requests to make: nothing to break.
    with contextlib.suppress(hypothesis.errors.Unsatisfiable):
        run()
    return failures


def test_the_api_survives_generated_input(api_schema: Any) -> None:
    token = issue_token(SECRET, "fuzz-verification", "+491701234567", T0)
    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failures += fuzz(operation, mode, token)
    assert not failures, "\n\n".join(dict.fromkeys(failures))
