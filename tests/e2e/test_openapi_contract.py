"""The whole JSON API against its own OpenAPI document, the way an outside tester runs
schemathesis (issue 11: "schemathesis 4.32 over the OpenAPI, all checks and phases").

The run walks every operation the document lists, so endpoints added later are covered as they
come: schemathesis' engine, in process over ASGI, with every check it has (positive data
acceptance included) and the examples, coverage and fuzzing phases, on a copy of the seeded
SQLite demo data with a fixed clock and the rate limits off (nothing here may turn into a 429).
Every request carries a valid booking token, so the fuzzing reaches the booking's own checks.

Any 5xx, any answer outside the document, any refusal of a request the document allows fails
the run, with a curl line per failure to reproduce it. One allowance, held by a check of our
own: a schema cannot say "not in the future", "a slot that is still free" or "the PIN that was
sent", so a schema-valid request may get a 400 or 422 from the service, but only with one of the
codes in DATA_REFUSALS, and never from the decoder (whose refusals carry `details.schema`): that
would mean the document is looser than the code.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from litestar import Litestar
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from kontingent.app import create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.verification.model import issue_token
from tests.support import T0

SECRET = "contract-secret-" + "x" * 20
TOKEN = issue_token(SECRET, "contract-verification", "+491701234567", T0)
# Examples per operation in the fuzzing phase; the whole run stays around a minute here.
MAX_EXAMPLES = 40

# 400s and 422s the service may give to schema-valid data, by operation: they depend on stored
# data (postcodes of the campaign, free slots, vaccines, the PIN sent) or on today's date, which
# no schema knows.
DATA_REFUSALS = {
    "POST /api/v1/verifications/{verification_id}": {"wrong_pin"},
    "POST /api/v1/eligibility": {
        "unknown_postcode",
        "outside_region",  # a real postcode elsewhere: where to book instead
        "place_needed",  # a postcode spanning districts, sent without `district`
        "unknown_district",
        "invalid_input",  # born in the future
    },
    "POST /api/v1/bookings": {
        "invalid_person",  # born in the future, or over 130 years ago
        "invalid_persons",  # the same person twice
        "invalid_offer",
        "unknown_slot",
        "slot_not_bookable",
        "unknown_postcode",
        "not_eligible",
    },
    "GET /api/v1/centres/{centre_id}/offers": {"unknown_vaccine"},
    "GET /api/v1/centres/{centre_id}/days": {"unknown_vaccine"},
}
# ... and on any operation that takes a birth date.
DATA_REFUSALS_ANYWHERE = {"invalid_birth_date"}

CONFIG = f"""
seed = 11
[headers]
Authorization = "Bearer {TOKEN}"
[checks]
enabled = true
[checks.positive_data_acceptance]
# 400 and 422 are judged by service_refusals_of_valid_data below, by operation and error code.
expected-statuses = ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]
[phases.examples]
enabled = true
[phases.coverage]
enabled = true
[phases.fuzzing]
enabled = true
[phases.stateful]
enabled = false
[generation]
mode = "all"
max-examples = {MAX_EXAMPLES}
"""


@schemathesis.check
def service_refusals_of_valid_data(ctx: Any, response: Any, case: Any) -> bool | None:
    """A schema-valid request refused with 400 or 422 only for a reason no schema can state."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    if response.status_code not in (400, 422):
        return None
    error = response.json()["error"]
    label = case.operation.label
    assert "schema" not in error["details"], f"{label}: the decoder refused valid data: {error}"
    allowed = DATA_REFUSALS.get(label, set()) | DATA_REFUSALS_ANYWHERE
    assert error["code"] in allowed, f"{label}: valid data refused with {error}"
    return None


@pytest.fixture
def contract_app(sqlite_template: Path, tmp_path: Path) -> Iterator[Litestar]:
    path = tmp_path / "contract.sqlite3"
    shutil.copy(sqlite_template, path)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}",
        demo=True,
        availability_ttl_s=0,
        embedded_relay=False,
        secret_key=SECRET,
        rate_limits=False,
    )
    yield create_app(settings, FixedClock(T0))


def _failures(event: events.EngineEvent) -> list[str]:
    if isinstance(event, events.NonFatalError | events.FatalError):
        return [f"the run itself failed: {event!r}"]
    if not isinstance(event, events.ScenarioFinished):
        return []
    found = []
    for nodes in event.recorder.checks.values():
        for node in nodes:
            info = node.failure_info
            if node.status == Status.SUCCESS or info is None:
                continue
            found.append(
                f"{event.label} [{event.phase.value}] {node.name}: {info.failure.title}\n"
                f"{info.failure.message}\n{info.code_sample}"
            )
    return found


def test_the_api_keeps_to_its_openapi_document(contract_app: Litestar) -> None:
    config = SchemathesisConfig.from_str(CONFIG)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", contract_app, config=config)
    failures: list[str] = []
    tested = set()
    for event in from_schema(schema).execute():
        failures += _failures(event)
        if isinstance(event, events.ScenarioFinished) and event.recorder.cases:
            tested.add(event.label)
    assert not failures, "\n\n".join(dict.fromkeys(failures))
    assert len(tested) >= 15, sorted(tested)  # the walk reached every operation
