"""`/api/v1/admin/campaign` on SQLite and PostgreSQL: the booking window (bookings follow it
at once), the waiting room (the service `kontingent waiting-room set` uses), the phone share
(re-spread like `kontingent phone-share`), each change audited, a refusal changing nothing."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.schema import slots
from tests.integration.admin.conftest import Client, audit_rows
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_booking_api import book, offer_ids
from tests.support import T0, error_of, person

URL = "/api/v1/admin/campaign"


async def test_the_campaign_shows_its_window_room_and_shares(
    client: Client, admin: dict[str, str]
) -> None:
    shown = await client.get(URL, headers=admin)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["booking_from"] < body["booking_until"]
    assert body["waiting_room"]["mode"] == "off" and body["waiting_room"]["guarding"] is False
    assert body["phone_share"] == {
        "percents": [0],  # the test data keeps none
        "new_contingents_percent": 20,
        "release_hours": 48.0,
    }


async def test_a_narrower_window_refuses_bookings_at_once_and_is_audited(
    client: Client, admin: dict[str, str], services: Services, get_token: GetToken
) -> None:
    slot_ids = await offer_ids(client)
    first = (await client.get(f"/api/v1/slots/{slot_ids[0]}")).json()["start"]
    changed = await client.patch(URL, json={"booking_until": first}, headers=admin)
    assert changed.status_code == 200, changed.text
    refused = await book(client, await get_token(0), [person(0)], slot_ids)
    assert error_of(refused, 422, "slot_not_bookable")["details"]["reason"] == (
        "outside_booking_window"
    )
    [row] = await audit_rows(services, "booking_window")
    assert row["action"] == "booking_window_changed" and row["username"] == "admin.ada"
    assert list(row["details"]["changes"]) == ["booking_until"]


async def test_the_waiting_room_is_set_like_the_cli_does_and_audited(
    client: Client, admin: dict[str, str], services: Services
) -> None:
    opening = (T0 + timedelta(hours=1)).isoformat()
    body = {"waiting_room": {"mode": "scheduled", "opens_at": opening, "rate": 25}}
    changed = await client.patch(URL, json=body, headers=admin)
    assert changed.status_code == 200, changed.text
    room = (await client.get(URL, headers=admin)).json()["waiting_room"]
    assert (room["mode"], room["rate"], room["guarding"]) == ("scheduled", 25.0, True)
    assert room["opens_at"] == "2026-01-12T10:00:00+01:00"
    [row] = await audit_rows(services, "waiting_room")
    assert row["details"]["changes"]["mode"] == ["off", "scheduled"]
    cleared = await client.patch(URL, json={"waiting_room": {"opens_at": None}}, headers=admin)
    assert cleared.json()["waiting_room"]["opens_at"] is None


async def test_a_wrong_part_refuses_the_whole_change(
    client: Client, admin: dict[str, str], services: Services
) -> None:
    before = (await client.get(URL, headers=admin)).json()
    cases = [
        ({"booking_until": before["booking_from"], "waiting_room": {"mode": "auto"}},
         "booking_until"),
        ({"waiting_room": {"mode": "auto", "opens_at": "2026-01-12T10:00:30+01:00"}},
         "waiting_room.opens_at"),
        ({"waiting_room": {"rate": 0}, "phone_share_percent": 30}, "waiting_room.rate"),
        ({"phone_share_percent": 101}, "phone_share_percent"),
        ({"booking_from": "2026-01-12T10:00:00"}, "booking_from"),
    ]  # fmt: skip
    for body, field in cases:
        error = error_of(await client.patch(URL, json=body, headers=admin), 422, "invalid_input")
        assert any(field in f for f in error["details"]["fields"]), (body, error)
    assert (await client.get(URL, headers=admin)).json() == before
    assert await audit_rows(services, "waiting_room") == []
    assert await audit_rows(services, "phone_share") == []


async def test_a_phone_share_is_spread_over_slots_beyond_the_release_lead(
    client: Client, admin: dict[str, str], services: Services
) -> None:
    changed = await client.patch(URL, json={"phone_share_percent": 30}, headers=admin)
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone_share"]["percents"] == [30]
    lead = T0 + timedelta(hours=48)
    async with services.db.read() as conn:
        later = select(func.sum(slots.c.phone_reserved)).where(slots.c.starts_at > lead)
        sooner = select(func.sum(slots.c.phone_reserved)).where(slots.c.starts_at <= lead)
        capacity = select(func.sum(slots.c.capacity)).where(
            slots.c.starts_at > lead, slots.c.contingent_id.is_not(None)
        )
        kept, within, seats = [(await conn.execute(q)).scalar() for q in (later, sooner, capacity)]
    assert within == 0 and 0.29 * seats <= kept <= 0.31 * seats
    [row] = await audit_rows(services, "phone_share")
    assert row["details"]["percent"] == 30 and row["details"]["contingents"] > 0


async def test_changes_are_limited_per_admin(
    settings: Settings, clock: FixedClock, admin: dict[str, str]
) -> None:
    limited = dataclasses.replace(settings, rate_limits=True, rate_admin_settings_per_admin="2/1h")
    async with AsyncTestClient(create_app(limited, clock)) as client:
        body = {"waiting_room": {"rate": 30}}
        for _ in range(2):
            assert (await client.patch(URL, json=body, headers=admin)).status_code == 200
        refused = error_of(await client.patch(URL, json=body, headers=admin), 429, "rate_limited")
        assert refused["details"]["per"] == "admin"
        assert (await client.get(URL, headers=admin)).status_code == 200  # reading is not


async def test_the_room_of_one_worker_among_several_is_refused(
    settings: Settings, clock: FixedClock, admin: dict[str, str], services: Services
) -> None:
    workers = dataclasses.replace(settings, workers=2)
    async with AsyncTestClient(create_app(workers, clock)) as client:
        body = {"waiting_room": {"mode": "scheduled"}, "phone_share_percent": 30}
        error_of(await client.patch(URL, json=body, headers=admin), 409, "waiting_room_needs_redis")
        shown = (await client.get(URL, headers=admin)).json()
        assert shown["waiting_room"]["mode"] == "off" and shown["phone_share"]["percents"] == [0]
    assert await audit_rows(services, "waiting_room") == []
    assert await audit_rows(services, "phone_share") == []
