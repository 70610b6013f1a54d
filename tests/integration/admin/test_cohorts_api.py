"""`/api/v1/admin/cohorts` on SQLite and PostgreSQL: round trips, refusals that name what to
fix and change nothing, audit rows; a cohort opening at its minute (injected clock) for the
eligibility check and the booking's own check, and in a second app instance on the same
database, told through Redis or, without it, within the catalogue's TTL."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from tests.integration.admin.conftest import Client, audit_rows
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_booking_api import book, offer_ids
from tests.integration.test_cache_invalidation import until
from tests.support import REDIS_URL, T0, error_of, person

SEVENTIES = 3  # the seeded "70 bis 79 Jahre", opening in two weeks
AGED_75 = {"birth_date": "1950-06-01", "postcode": "33602"}
NEW = {
    "name": "Pflegekräfte 50 bis 59",
    "min_age": 50,
    "max_age": 59,
    "vaccines": ["AZ"],
    "opens_at": "2026-01-20T08:00:00+01:00",
    "district_rule": "own",
}


async def eligible(client: Client) -> bool:
    """Whether a 75-year-old may have BioNTech (60 and over may have AstraZeneca already)."""
    answer = await client.post("/api/v1/eligibility", json=AGED_75)
    assert answer.status_code == 200, answer.text
    return "BNT" in answer.json()["vaccines"]


async def test_an_admin_adds_reads_and_changes_a_cohort(
    client: Client, admin: dict[str, str], services: Services
) -> None:
    added = await client.post("/api/v1/admin/cohorts", json=NEW, headers=admin)
    assert added.status_code == 201, added.text
    body = added.json()
    assert {k: body[k] for k in NEW} == NEW and body["open"] is False
    listed = (await client.get("/api/v1/admin/cohorts", headers=admin)).json()["items"]
    assert body in listed and len(listed) == 4
    url = f"/api/v1/admin/cohorts/{body['id']}"
    changed = await client.patch(
        url, json={"max_age": None, "vaccines": ["AZ", "JNJ"], "district_rule": "region"},
        headers=admin,
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert (await client.get(url, headers=admin)).json() == changed.json()
    assert changed.json()["max_age"] is None and changed.json()["vaccines"] == ["AZ", "JNJ"]
    rows = await audit_rows(services, "cohort_")
    assert [(r["action"], r["target"]) for r in rows] == [
        ("cohort_added", f"cohort:{body['id']}"),
        ("cohort_changed", f"cohort:{body['id']}"),
    ]
    assert rows[1]["details"]["changes"] == {
        "max_age": [59, None],
        "vaccines": [["AZ"], ["AZ", "JNJ"]],
        "district_rule": ["own", "region"],
    }


async def test_a_wrong_cohort_is_refused_with_what_to_fix_and_nothing_changes(
    client: Client, admin: dict[str, str], services: Services
) -> None:
    url = f"/api/v1/admin/cohorts/{SEVENTIES}"
    before = (await client.get(url, headers=admin)).json()
    for body, field in [
        ({"min_age": 80}, "max_age"),  # 80 > 79
        ({"vaccines": ["BNT", "XYZ"]}, "vaccines"),
        ({"opens_at": "2026-01-20T08:00:30+01:00"}, "opens_at"),  # not a whole minute
        ({"opens_at": "2026-01-20T08:00:00"}, "opens_at"),  # no offset
        ({"district_rule": "state"}, "district_rule"),
        ({"vaccines": []}, "vaccines"),
    ]:
        error = error_of(await client.patch(url, json=body, headers=admin), 422, "invalid_input")
        assert field in error["details"]["fields"], (body, error)
    missing = await client.patch("/api/v1/admin/cohorts/999", json={}, headers=admin)
    error_of(missing, 404, "unknown_cohort")
    assert (await client.get(url, headers=admin)).json() == before
    assert await audit_rows(services, "cohort_") == []


async def test_a_cohort_opens_at_its_minute_for_eligibility_and_booking(
    client: Client, admin: dict[str, str], clock: FixedClock, get_token: GetToken
) -> None:
    opening = T0 + timedelta(hours=1)
    moved = await client.patch(
        f"/api/v1/admin/cohorts/{SEVENTIES}", json={"opens_at": opening.isoformat()}, headers=admin
    )
    assert moved.status_code == 200 and moved.json()["open"] is False, moved.text
    slots, token = await offer_ids(client), await get_token(0)
    clock.set(opening - timedelta(seconds=1))
    assert not await eligible(client)
    early = await book(client, token, [person(0, birth_date=AGED_75["birth_date"])], slots)
    error_of(early, 422, "not_eligible")
    clock.set(opening)
    assert await eligible(client)
    made = await book(client, token, [person(0, birth_date=AGED_75["birth_date"])], slots)
    assert made.status_code == 201, made.text


@asynccontextmanager
async def second_instance(
    settings: Settings, clock: FixedClock
) -> AsyncIterator[tuple[Client, Services]]:
    app: Litestar = create_app(settings, clock)
    async with AsyncTestClient(app) as other:
        yield other, app.state.services


async def test_a_second_instance_without_redis_follows_within_the_catalogue_ttl(
    client: Client, admin: dict[str, str], settings: Settings, clock: FixedClock
) -> None:
    async with second_instance(settings, clock) as (other, services):
        assert not await eligible(other)  # its catalogue read before the change
        opened = await client.patch(
            f"/api/v1/admin/cohorts/{SEVENTIES}", json={"opens_at": T0.isoformat()}, headers=admin
        )
        assert opened.json()["open"] is True
        assert await eligible(client)  # the changing process at once
        cache = services.inventory.catalogue_cache
        cache.monotonic = lambda: time.monotonic() + cache.ttl_s  # the TTL has passed
        assert await eligible(other)


@pytest.mark.redis
async def test_a_second_instance_with_redis_hears_the_change_at_once(
    settings: Settings, clock: FixedClock, admin: dict[str, str]
) -> None:
    shared = dataclasses.replace(
        settings, redis_url=REDIS_URL, redis_prefix=f"kt_test_{secrets.token_hex(4)}:"
    )
    async with (
        AsyncTestClient(create_app(shared, clock)) as first,
        second_instance(shared, clock) as (other, services),
    ):
        await until(lambda: services.inventory.invalidation_connected, "subscribed")
        assert not await eligible(other)
        heard = services.inventory.remote_changes
        opened = await first.patch(
            f"/api/v1/admin/cohorts/{SEVENTIES}", json={"opens_at": T0.isoformat()}, headers=admin
        )
        assert opened.status_code == 200, opened.text
        await until(lambda: services.inventory.remote_changes > heard, "the change heard")
        assert await eligible(other)  # long before the catalogue's TTL
