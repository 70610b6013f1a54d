"""`/api/v1/admin/vaccines` on SQLite and PostgreSQL: round trips, every refusal naming what
to fix and changing nothing, an audit row per change, and bookings untouched by a new
interval."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from kontingent.app import Services
from kontingent.schema import appointments, slots
from tests.integration.admin.conftest import Client, audit_rows
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_booking_api import book, offer_ids
from tests.support import error_of, person

NEW = {
    "code": "NVX",
    "name": "Novavax/Nuvaxovid",
    "doses": 2,
    "interval_min_days": 21,
    "interval_max_days": 35,
    "interval_recommended_days": 28,
    "min_age": 18,
}


async def test_an_admin_adds_reads_and_changes_a_vaccine(
    client: Client, admin: dict[str, str], services: Services
) -> None:
    added = await client.post("/api/v1/admin/vaccines", json=NEW, headers=admin)
    assert added.status_code == 201, added.text
    assert added.json() == {**NEW, "max_age": None}
    listed = (await client.get("/api/v1/admin/vaccines", headers=admin)).json()["items"]
    assert [v["code"] for v in listed] == ["AZ", "BNT", "JNJ", "MOD", "NVX"]
    changed = await client.patch(
        "/api/v1/admin/vaccines/NVX",
        json={"interval_max_days": 42, "max_age": 79, "name": "Nuvaxovid"},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    one = (await client.get("/api/v1/admin/vaccines/NVX", headers=admin)).json()
    assert one == changed.json()
    assert (one["interval_max_days"], one["max_age"], one["name"]) == (42, 79, "Nuvaxovid")
    cleared = await client.patch(
        "/api/v1/admin/vaccines/NVX", json={"max_age": None}, headers=admin
    )
    assert cleared.json()["max_age"] is None
    rows = await audit_rows(services, "vaccine_")
    assert [(r["action"], r["target"], r["username"], r["channel"]) for r in rows] == [
        ("vaccine_added", "vaccine:NVX", "admin.ada", "api"),
        ("vaccine_changed", "vaccine:NVX", "admin.ada", "api"),
        ("vaccine_changed", "vaccine:NVX", "admin.ada", "api"),
    ]
    assert rows[1]["details"]["changes"] == {
        "name": ["Novavax/Nuvaxovid", "Nuvaxovid"],
        "interval_max_days": [35, 42],
        "max_age": [None, 79],
    }


async def test_a_wrong_vaccine_is_refused_with_what_to_fix_and_nothing_changes(
    client: Client, admin: dict[str, str], services: Services
) -> None:
    before = (await client.get("/api/v1/admin/vaccines/BNT", headers=admin)).json()
    url = "/api/v1/admin/vaccines/BNT"
    for body, field in [
        ({"interval_min_days": 50}, "interval_max_days"),  # 50 > 42
        ({"interval_recommended_days": 60}, "interval_recommended_days"),
        ({"doses": 1}, "interval_min_days"),  # a one-dose vaccine with an interval
        ({"min_age": 80, "max_age": 70}, "max_age"),
    ]:
        error = error_of(await client.patch(url, json=body, headers=admin), 422, "invalid_input")
        assert field in error["details"]["fields"], (body, error)
    decoded = await client.patch(url, json={"max_age": 121}, headers=admin)
    assert "max_age" in error_of(decoded, 422, "invalid_input")["details"]["fields"]
    error_of(
        await client.patch("/api/v1/admin/vaccines/XX", json={}, headers=admin),
        404,
        "unknown_vaccine",
    )
    taken = {**NEW, "code": "BNT"}
    error_of(
        await client.post("/api/v1/admin/vaccines", json=taken, headers=admin),
        409,
        "vaccine_exists",
    )
    assert (await client.get(url, headers=admin)).json() == before
    assert await audit_rows(services, "vaccine_") == []


async def test_a_new_interval_leaves_booked_second_doses_where_they_are(
    client: Client, admin: dict[str, str], services: Services, get_token: GetToken
) -> None:
    made = await book(client, await get_token(0), [person(0)], await offer_ids(client))
    assert made.status_code == 201, made.text
    query = (
        select(appointments.c.slot_id, slots.c.starts_at).join(slots).order_by(appointments.c.dose)
    )

    async def booked() -> list[tuple[int, object]]:
        async with services.db.read() as conn:
            return [tuple(r) for r in (await conn.execute(query)).all()]

    before = await booked()
    changed = await client.patch(
        "/api/v1/admin/vaccines/BNT",
        json={"interval_min_days": 35, "interval_max_days": 42},
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert await booked() == before and len(before) == 2
    offer = (await client.get("/api/v1/centres/1/offers?vaccine=BNT&limit=1")).json()["offers"][0]
    first, second = (a["start"][:10] for a in offer["appointments"])
    assert (date.fromisoformat(second) - date.fromisoformat(first)).days >= 35  # new offers follow
