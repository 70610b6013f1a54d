"""The admin's centres over the JSON API (`/api/v1/admin/centres`): every refusal names the
field and says what to send, a closure with bookings needs `cancel_bookings`, a dry run
writes nothing, only admins may call it, and each admin's changes are limited. On SQLite
and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.staff.model import Role
from tests.integration.admin.conftest import FIRST_DAY, drop_centre
from tests.integration.admin.test_centres_slots import at, book_at
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.staff.conftest import add_accounts
from tests.support import error_of

Client = AsyncTestClient[Litestar]
NEW = {
    "name": "Impfzentrum Sennestadt",
    "street": "Lindemann-Platz 3",
    "postcode": "33689",
    "city": "Bielefeld",
    "lanes": 4,
    "slot_minutes": 15,
    "hours": [{"weekday": "monday", "opens": "08:00", "closes": "18:00"}],
}


async def admin(client: Client, services: Services) -> dict[str, str]:
    await add_accounts(services)
    return await bearer(client, Role.admin)


async def test_a_new_centre_with_mistakes_is_refused_naming_each_field(
    client: Client, services: Services
) -> None:
    headers = await admin(client, services)
    wrong = {
        **NEW,
        "postcode": "10115",
        "lanes": 0,
        "hours": [
            {"weekday": "monday", "opens": "18:00", "closes": "08:00"},
            {"weekday": "tuesday", "opens": "25:00", "closes": "12:00"},
        ],
    }
    error = error_of(await client.post("/api/v1/admin/centres", json=wrong, headers=headers),
                     422, "invalid_centre")  # fmt: skip
    fields = error["details"]["fields"]
    assert set(fields) == {"postcode", "lanes", "hours.monday", "hours.tuesday.opens"}
    assert "10115 is not in Westfalen-Lippe" in fields["postcode"]
    assert "from 1 to" in fields["lanes"]
    assert "before the closing time" in fields["hours.monday"]
    assert "HH:MM" in fields["hours.tuesday.opens"]
    unknown = await client.post(
        "/api/v1/admin/centres", json={**NEW, "lanes": "x"}, headers=headers
    )
    assert "lanes" in error_of(unknown, 422, "invalid_input")["details"]["fields"]


async def test_an_admin_adds_a_centre_and_reads_it_back(client: Client, services: Services) -> None:
    headers = await admin(client, services)
    made = await client.post("/api/v1/admin/centres", json=NEW, headers=headers)
    assert made.status_code == 201, made.text
    body = made.json()
    try:
        assert body["district"] == "Bielefeld" and body["lanes"] == 4
        assert body["hours"] == [{"weekday": "monday", "opens": "08:00", "closes": "18:00"}]
        listed = (await client.get("/api/v1/admin/centres", headers=headers)).json()
        assert body["id"] in [c["id"] for c in listed]
        one = await client.get(f"/api/v1/admin/centres/{body['id']}", headers=headers)
        assert one.json() == body
        public = (await client.get("/api/v1/centres")).json()
        assert body["id"] in [c["id"] for c in public], "the catalogue was read anew"
    finally:
        await drop_centre(services, body["id"])


async def test_a_closure_with_bookings_answers_409_until_confirmed(
    client: Client, services: Services, centre: int
) -> None:
    headers = await admin(client, services)
    code = await book_at(services, centre, at(2, 9), 0)
    day = (FIRST_DAY + timedelta(days=2)).isoformat()
    patch: dict[str, Any] = {"closures": {"add": [{"day": day, "reason": "Wasserschaden"}]}}
    url = f"/api/v1/admin/centres/{centre}"
    refused = error_of(await client.patch(url, json=patch, headers=headers), 409,
                       "closure_has_bookings")  # fmt: skip
    assert refused["details"]["bookings"] == {day: [code]}
    dry = (
        await client.patch(url, json={**patch, "dry_run": True, "lanes": 4}, headers=headers)
    ).json()
    assert dry["dry_run"] and dry["closure_bookings"] == {day: [code]}
    assert dry["slots"]["resized"] == 7 * 12 and dry["centre"]["lanes"] == 2, "nothing written"
    done = await client.patch(url, json={**patch, "cancel_bookings": True}, headers=headers)
    assert done.status_code == 200, done.text
    assert done.json()["closures_added"] == [{"day": day, "cancelled": [code]}]
    assert done.json()["centre"]["closures"][0]["reason"] == "Wasserschaden"
    answer = await client.get(f"/api/v1/bookings/{code}", params={"birth_date": "1939-05-01"})
    assert answer.json()["status"] == "cancelled"
    reopened = await client.patch(url, json={"closures": {"remove": [day]}}, headers=headers)
    assert reopened.json()["closures_removed"] == [day]
    assert reopened.json()["centre"]["closures"] == []


async def test_only_admins_and_each_within_a_limit(
    settings: Settings, clock: FixedClock, services: Services, centre: int
) -> None:
    limited = dataclasses.replace(settings, rate_limits=True, rate_admin_centres_per_admin="1/1h")
    await add_accounts(services)
    async with AsyncTestClient(create_app(limited, clock)) as client:
        url = f"/api/v1/admin/centres/{centre}"
        agent = await bearer(client, Role.agent)
        error_of(await client.patch(url, json={"lanes": 3}, headers=agent), 403, "wrong_role")
        headers = await bearer(client, Role.admin)
        assert (await client.patch(url, json={"lanes": 3}, headers=headers)).status_code == 200
        refused = await client.patch(url, json={"lanes": 4}, headers=headers)
        assert error_of(refused, 429)["details"]["action"] == "admin_centres"
        assert (await client.get(url, headers=headers)).json()["lanes"] == 3
