"""Hotline agents book, cancel and rebook for callers over the JSON API (API.md, "Hotline
agents"), on SQLite and PostgreSQL (there through the single booking statement): no SMS PIN,
the caller's number (landline or mobile) is the booking's phone, an SMS only to a mobile;
each action leaves one audit row written with it, and none when it fails; idempotency keys
work per agent; each agent has its own limit; the offers answer eligibility in plain words
with the home district's centre first."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.schema import outbox
from kontingent.staff.model import Role
from kontingent.staff.tables import audit_log
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.api.test_booking_api import book, offer_ids, slot_booked
from tests.integration.staff.conftest import BY_CLI, PASSWORD, add_accounts
from tests.integration.test_phone_share import first_slot, hold, state
from tests.support import BIELEFELD, db_counts, error_of, fill_centre, person, phone, set_free

Client = AsyncTestClient[Litestar]
LANDLINE = "0521 123456"  # Bielefeld
LANDLINE_E164 = "+49521123456"
MOBILE = "0171 2345678"
MOBILE_E164 = "+491712345678"


async def agent_book(
    client: Client, agent: dict[str, str], people: list[dict[str, Any]], ids: list[int],
    key: str = "",
) -> httpx.Response:  # fmt: skip
    headers = {**agent, "Idempotency-Key": key} if key else agent
    body = {"persons": people, "slot_ids": ids}
    return await client.post("/api/v1/agent/bookings", json=body, headers=headers)


async def audit_rows(svc: Services) -> list[tuple[str, str, str | None, str]]:
    """(username, action, target, channel) of every booking action, oldest first."""
    async with svc.db.read() as conn:
        query = (
            select(audit_log).where(audit_log.c.action.like("booking.%")).order_by(audit_log.c.id)
        )
        return [(r.username, r.action, r.target, r.channel) for r in await conn.execute(query)]


async def messages_to(svc: Services, to: str) -> list[tuple[str, str]]:
    async with svc.db.read() as conn:
        query = select(outbox.c.channel, outbox.c.body).where(outbox.c.recipient == to)
        return [(r.channel, r.body) for r in await conn.execute(query)]


async def test_an_agent_books_a_couple_for_a_landline_caller(client: Client, svc: Services) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    found = await client.get(
        "/api/v1/agent/offers",
        params={"birth_date": "1939-05-01", "postcode": "33602", "persons": 2,
                "partner_birth_date": "1938-11-30"},
        headers=agent,
    )  # fmt: skip
    assert found.status_code == 200, found.text
    offers = found.json()
    assert offers["eligible"] is True and offers["reasons"] == []
    home = offers["centres"][0]
    assert home["centre_id"] == BIELEFELD and home["distance_km"] is None
    assert all(c["distance_km"] > 0 for c in offers["centres"][1:])
    ids = [a["slot_id"] for a in home["offers"][0]["appointments"]]
    assert len(ids) == 4  # two doses for each of the two persons

    couple = [person(0, phone=LANDLINE),
              person(1, first_name="Hans", birth_date="1938-11-30", email=None)]  # fmt: skip
    answer = await agent_book(client, agent, couple, ids)
    assert answer.status_code == 201, answer.text
    booking = answer.json()
    assert booking["channel"] == "phone" and booking["status"] == "booked"
    assert [p["phone"] for p in booking["persons"]] == [LANDLINE_E164, LANDLINE_E164]
    assert [await slot_booked(client, i) for i in sorted(set(ids))] == [2, 2]
    assert await messages_to(svc, LANDLINE_E164) == []  # a landline gets no SMS
    mails = await messages_to(svc, "erika@example.org")
    assert [c for c, _ in mails] == ["email"] and booking["code"] in mails[0][1]
    assert await audit_rows(svc) == [("agent.anna", "booking.create", booking["code"], "api")]


async def test_a_mobile_caller_gets_the_sms_and_a_missing_number_is_refused(
    client: Client, svc: Services
) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    ids = await offer_ids(client)
    refused = error_of(await agent_book(client, agent, [person(0)], ids), 422, "invalid_phone")
    assert refused["details"]["field"] == "persons[0].phone"
    error_of(await agent_book(client, agent, [person(0, phone="12345 6")], ids), 422,
             "invalid_phone")  # fmt: skip
    answer = await agent_book(client, agent, [person(0, phone=MOBILE)], ids)
    assert answer.status_code == 201, answer.text
    sms = await messages_to(svc, MOBILE_E164)
    assert [c for c, _ in sms] == ["sms"] and answer.json()["code"] in sms[0][1]


async def test_a_replay_under_the_same_key_books_once_per_agent(
    client: Client, svc: Services
) -> None:
    await add_accounts(svc)
    await svc.staff.add_user("agent.bert", Role.agent, PASSWORD, [], BY_CLI)
    anna = await bearer(client, Role.agent)
    ids = await offer_ids(client)
    first = await agent_book(client, anna, [person(0, phone=MOBILE)], ids, key="call-1")
    again = await agent_book(client, anna, [person(0, phone=MOBILE)], ids, key="call-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    other = await agent_book(client, anna, [person(1, phone=MOBILE)], ids, key="call-1")
    error_of(other, 422, "idempotency_key_reused")
    # Another agent's key of the same name is its own: a new booking.
    login = await client.post(
        "/api/v1/auth/token", json={"username": "agent.bert", "password": PASSWORD}
    )
    bert = {"Authorization": f"Bearer {login.json()['token']}"}
    theirs = await agent_book(client, bert, [person(2, phone=LANDLINE)], ids, key="call-1")
    assert theirs.status_code == 201 and theirs.json()["code"] != first.json()["code"]
    assert [(u, a) for u, a, _, _ in await audit_rows(svc)] == [
        ("agent.anna", "booking.create"),
        ("agent.bert", "booking.create"),
    ]


async def test_a_failed_booking_writes_no_audit_row(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    ids = await offer_ids(client)
    assert (await book(client, await get_token(0), [person(0)], ids)).status_code == 201
    await set_free(svc.db, 0, ids[0])
    before = await db_counts(svc.db)
    twice = await agent_book(client, agent, [person(0, phone=LANDLINE)], await offer_ids(client))
    error_of(twice, 409, "already_booked")  # one active booking per person holds
    taken = error_of(await agent_book(client, agent, [person(1, phone=LANDLINE)], ids), 409,
                     "slot_taken")  # fmt: skip
    assert "offers" in taken["details"]
    assert await db_counts(svc.db) == before
    assert await audit_rows(svc) == []


async def test_an_agent_rebooks_and_cancels_a_citizens_booking(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    url = f"/api/v1/centres/{BIELEFELD}/offers?vaccine=BNT&persons=1&limit=3"
    offers = [[a["slot_id"] for a in o["appointments"]]
              for o in (await client.get(url)).json()["offers"]]  # fmt: skip
    booked = await client.post(
        "/api/v1/bookings", json={"persons": [person(0)], "slot_ids": offers[0], "language": "en"},
        headers={"Authorization": f"Bearer {await get_token(0)}"},
    )  # fmt: skip
    code = booked.json()["code"]

    moved = await client.post(
        f"/api/v1/agent/bookings/{code}/rebook", json={"slot_ids": offers[2]}, headers=agent
    )
    assert moved.status_code == 200, moved.text
    assert [a["slot_id"] for a in moved.json()["appointments"]] == offers[2]
    assert moved.json()["channel"] == "web"  # how it was made, not who changed it
    assert [await slot_booked(client, i) for i in offers[0]] == [0, 0]

    cancelled = await client.delete(f"/api/v1/agent/bookings/{code.lower()}", headers=agent)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [await slot_booked(client, i) for i in offers[2]] == [0, 0]
    said = [body for _, body in await messages_to(svc, phone(0))]
    assert any("rebooked" in body for body in said)  # in the booking's language
    assert any(f"code {code} are cancelled" in body for body in said)

    again = await client.post(
        f"/api/v1/agent/bookings/{code}/rebook", json={"slot_ids": offers[1]}, headers=agent
    )
    error_of(again, 409, "booking_cancelled")  # refused: no audit row
    unknown = await client.delete("/api/v1/agent/bookings/K7QM-3XPA-9RTD", headers=agent)
    error_of(unknown, 404, "booking_not_found")
    assert await audit_rows(svc) == [
        ("agent.anna", "booking.rebook", code, "api"),
        ("agent.anna", "booking.cancel", code, "api"),
    ]


async def test_offers_put_home_first_then_the_nearest_centres_with_free_offers(
    client: Client, svc: Services
) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    params = {"birth_date": "1939-05-01", "postcode": "33602", "vaccine": "BNT"}
    before = (await client.get("/api/v1/agent/offers", params=params, headers=agent)).json()
    centres = before["centres"]
    assert before["vaccine"] == "BNT" and 2 <= len(centres) <= 5
    assert centres[0]["centre_id"] == BIELEFELD and centres[0]["distance_km"] is None
    distances = [c["distance_km"] for c in centres[1:]]
    assert distances == sorted(distances)
    assert all(c["offers"] and c["vaccine"] == "BNT" for c in centres)
    nearest = centres[1]["centre_id"]
    await fill_centre(svc.db, BIELEFELD, "BNT")
    await fill_centre(svc.db, nearest, "BNT")
    svc.inventory.forget_readings()
    after = (await client.get("/api/v1/agent/offers", params=params, headers=agent)).json()
    home, *others = after["centres"]
    assert home["centre_id"] == BIELEFELD and home["offers"] == []  # home stays, says "none"
    assert nearest not in [c["centre_id"] for c in others] and others  # full: left out


async def test_offers_say_why_a_caller_may_not_book_in_plain_words(
    client: Client, svc: Services
) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    young = await client.get(
        "/api/v1/agent/offers", params={"birth_date": "1990-01-01", "postcode": "33602"},
        headers=agent,
    )  # fmt: skip
    assert young.status_code == 200, young.text
    body = young.json()
    assert body["eligible"] is False and body["centres"] == []
    assert body["reasons"] and "age" in body["reasons"][0]
    outside = await client.get(
        "/api/v1/agent/offers", params={"birth_date": "1939-05-01", "postcode": "10115"},
        headers=agent,
    )  # fmt: skip
    assert outside.status_code == 422
    wrong = await client.get(
        "/api/v1/agent/offers",
        params={"birth_date": "1939-05-01", "postcode": "33602", "vaccine": "XYZ"},
        headers=agent,
    )  # fmt: skip
    error_of(wrong, 422, "vaccine_not_open")


async def test_bookings_are_limited_per_agent(
    settings: Settings, clock: FixedClock, svc: Services
) -> None:
    limited = dataclasses.replace(settings, rate_limits=True, rate_agent_booking_per_agent="1/1h")
    await add_accounts(svc)
    await svc.staff.add_user("agent.bert", Role.agent, PASSWORD, [], BY_CLI)
    async with AsyncTestClient(create_app(limited, clock)) as client:
        anna = await bearer(client, Role.agent)
        ids = await offer_ids(client)
        first = await agent_book(client, anna, [person(0, phone=LANDLINE)], ids)
        assert first.status_code == 201, first.text
        refused = await client.delete(
            f"/api/v1/agent/bookings/{first.json()['code']}", headers=anna
        )
        assert error_of(refused, 429)["details"]["action"] == "agent_booking"
        login = await client.post(
            "/api/v1/auth/token", json={"username": "agent.bert", "password": PASSWORD}
        )
        bert = {"Authorization": f"Bearer {login.json()['token']}"}
        cancelled = await client.delete(
            f"/api/v1/agent/bookings/{first.json()['code']}", headers=bert
        )
        assert cancelled.status_code == 200, cancelled.text


async def test_agents_offer_and_book_the_seats_kept_for_the_phone(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    await add_accounts(svc)
    agent = await bearer(client, Role.agent)
    slot_id, capacity = await first_slot(svc)
    await hold(svc, slot_id, capacity - 1, 1)  # its last free seat is the hotline's
    public = await client.get(f"/api/v1/centres/{BIELEFELD}/offers?vaccine=JNJ&limit=3")
    assert slot_id not in [o["appointments"][0]["slot_id"] for o in public.json()["offers"]]
    params = {"birth_date": "1939-05-01", "postcode": "33602", "vaccine": "JNJ"}
    found = (await client.get("/api/v1/agent/offers", params=params, headers=agent)).json()
    home = found["centres"][0]
    assert slot_id in [o["appointments"][0]["slot_id"] for o in home["offers"]]

    web = await book(client, await get_token(0), [person(0)], [slot_id])
    error_of(web, 409, "slot_taken")
    phoned = await agent_book(client, agent, [person(1, phone=LANDLINE)], [slot_id])
    assert phoned.status_code == 201, phoned.text
    assert await state(svc, slot_id) == (capacity, 0)
