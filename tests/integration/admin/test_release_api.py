"""The release endpoints over HTTP (API.md, "Administration"): an admin schedules, reads the
history and one release, and cancels; the answers keep API.md's names, every refusal is the
error shape with the field to fix, and the OpenAPI document lists them all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from kontingent.staff.model import Role
from tests.integration.staff.conftest import ACCOUNTS, add_accounts
from tests.integration.staff.test_http import token
from tests.support import BIELEFELD, T0, error_of

Client = AsyncTestClient[Litestar]
BODY = {
    "vaccine": "JNJ",
    "centre_ids": [BIELEFELD],
    "first_day": "2026-02-09",
    "last_day": "2026-02-10",
    "at": (T0 + timedelta(hours=1)).isoformat(),
}


async def admin_headers(client: Client, services: Services) -> dict[str, str]:
    await add_accounts(services)
    answer = await token(client, ACCOUNTS[Role.admin].username)
    return {"Authorization": f"Bearer {answer.json()['token']}"}


async def test_schedule_read_and_cancel_a_release(client: Client, services: Services) -> None:
    headers = await admin_headers(client, services)
    made = await client.post("/api/v1/admin/releases", json=BODY, headers=headers)
    assert made.status_code == 201, made.text
    body = made.json()
    assert {"id", "status", "released_slots", "executed_at"} <= set(body)
    assert (body["status"], body["released_slots"], body["executed_at"]) == ("scheduled", 72, None)
    assert body["at"] == "2026-01-12T10:00:00+01:00" and body["created_by"] == "admin.ada"
    assert body["centres"][0]["centre_id"] == BIELEFELD and body["centre_ids"] == [BIELEFELD]

    listed = await client.get("/api/v1/admin/releases", headers=headers)
    assert listed.json() == {"items": [body], "next": None}
    one = await client.get(f"/api/v1/admin/releases/{body['id']}", headers=headers)
    assert one.json() == body

    cancelled = await client.post(f"/api/v1/admin/releases/{body['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    again = await client.post(f"/api/v1/admin/releases/{body['id']}/cancel", headers=headers)
    error_of(again, 409, "release_cancelled")
    error_of(await client.get("/api/v1/admin/releases/999", headers=headers), 404)


async def test_a_release_now_answers_done(client: Client, services: Services) -> None:
    headers = await admin_headers(client, services)
    made = await client.post("/api/v1/admin/releases", json={**BODY, "at": None}, headers=headers)
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["executed_at"]) == (
        "done",
        "2026-01-12T09:00:00+01:00",
    )


async def test_refusals_say_what_to_fix(client: Client, services: Services) -> None:
    headers = await admin_headers(client, services)
    cases: list[tuple[dict[str, Any], int, str, str]] = [
        ({"last_day": "2026-02-08"}, 422, "invalid_release", "before the first day"),
        ({"vaccine": "XYZ"}, 422, "unknown_vaccine", "/api/v1/vaccines"),
        ({"centre_ids": [1, 77]}, 422, "unknown_centre", "no centre 77"),
        ({"at": "2026-01-12T10:00:00"}, 422, "invalid_release", "offset"),
        (
            {"vaccine": "BNT", "first_day": "2026-03-20", "last_day": "2026-03-24"},
            409,
            "contingent_overlap",
            "centre 1",
        ),
        ({"centre_ids": []}, 422, "invalid_input", "centre_ids"),
    ]
    for changes, status, code, words in cases:
        answer = await client.post(
            "/api/v1/admin/releases", json={**BODY, **changes}, headers=headers
        )
        error = error_of(answer, status, code)
        assert words in error["message"], (changes, error)
    error_of(await client.post("/api/v1/admin/releases", json=BODY), 401)


async def test_the_openapi_document_lists_the_release_endpoints(client: Client) -> None:
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/admin/releases"])
    assert "get" in paths["/api/v1/admin/releases/{release_id}"]
    assert "post" in paths["/api/v1/admin/releases/{release_id}/cancel"]
