"""Booking over HTTP on SQLite and PostgreSQL: book, look up, cancel; Idempotency-Key; and the
401/409 answers (slot taken with fresh offers, token used, person already booked, token expired).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from kontingent.clock import FixedClock
from tests.support import BIELEFELD, db_counts, error_of, person, phone, set_free

Client = AsyncTestClient[Litestar]
GetToken = Callable[[int], Awaitable[str]]  # the `get_token` fixture
CODE = re.compile(r"^[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}$")


async def offer_ids(client: Client, persons: int = 1, vaccine: str = "BNT") -> list[int]:
    url = f"/api/v1/centres/{BIELEFELD}/offers?vaccine={vaccine}&persons={persons}&limit=1"
    return [a["slot_id"] for a in (await client.get(url)).json()["offers"][0]["appointments"]]


async def book(
    client: Client, token: str, people: list[dict[str, Any]], slot_ids: list[int], key: str = ""
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    if key:
        headers["Idempotency-Key"] = key
    body = {"persons": people, "slot_ids": slot_ids}
    return await client.post("/api/v1/bookings", json=body, headers=headers)


async def slot_booked(client: Client, slot_id: int) -> int:
    booked: int = (await client.get(f"/api/v1/slots/{slot_id}")).json()["booked"]
    return booked


async def test_book_look_up_and_cancel(client: Client, get_token: GetToken) -> None:
    ids = await offer_ids(client)
    response = await book(client, await get_token(0), [person(0)], ids)
    assert response.status_code == 201, response.text
    booking = response.json()
    assert CODE.match(booking["code"]) and booking["status"] == "booked"
    assert [p["last_name"] for p in booking["persons"]] == [person(0)["last_name"]]
    assert booking["persons"][0]["phone"] == phone(0)  # the verified phone, when none given
    assert [
        (a["slot_id"], a["dose"], a["centre_id"], a["person"]) for a in booking["appointments"]
    ] == [(ids[0], 1, BIELEFELD, 0), (ids[1], 2, BIELEFELD, 0)]
    assert all(a["start"].endswith("+01:00") for a in booking["appointments"])
    assert [await slot_booked(client, i) for i in ids] == [1, 1]

    code = booking["code"]
    for typed in (code, code.lower(), code.replace("-", "")):
        found = await client.get(f"/api/v1/bookings/{typed}?birth_date=1939-05-01")
        assert found.status_code == 200 and found.json() == booking
    wrong_day = await client.get(f"/api/v1/bookings/{code}?birth_date=1939-05-02")
    error_of(wrong_day, 404, "booking_not_found")

    cancelled = await client.delete(f"/api/v1/bookings/{code}?birth_date=1939-05-01")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert [await slot_booked(client, i) for i in ids] == [0, 0]  # free again at once
    again = await client.delete(f"/api/v1/bookings/{code.lower()}?birth_date=1939-05-01")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    assert [await slot_booked(client, i) for i in ids] == [0, 0]
    looked_up = await client.get(f"/api/v1/bookings/{code}?birth_date=1939-05-01")
    assert looked_up.json()["status"] == "cancelled"


async def test_book_a_couple(client: Client, get_token: GetToken) -> None:
    ids = await offer_ids(client, persons=2)
    couple = [person(0), person(1, first_name="Hans", birth_date="1938-11-30")]
    response = await book(client, await get_token(0), couple, ids)
    assert response.status_code == 201, response.text
    appointments = response.json()["appointments"]
    assert [(a["dose"], a["person"]) for a in appointments] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert await slot_booked(client, ids[0]) == 2
    hans = await client.get(f"/api/v1/bookings/{response.json()['code']}?birth_date=1938-11-30")
    assert hans.status_code == 200  # either person's birth date finds the booking


async def test_idempotency_key(client: Client, svc: Services, get_token: GetToken) -> None:
    token, ids = await get_token(0), await offer_ids(client)
    first = await book(client, token, [person(0)], ids, key="click-1")
    between = await db_counts(svc.db)
    second = await book(client, token, [person(0)], ids, key="click-1")
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert await db_counts(svc.db) == between

    other = await book(client, token, [person(1)], ids, key="click-1")
    error = error_of(other, 422, "idempotency_key_reused")
    assert "new key" in error["message"]
    assert await db_counts(svc.db) == between


async def test_slot_taken_meanwhile_answers_409_with_fresh_offers(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    token, ids = await get_token(0), await offer_ids(client)
    await set_free(svc.db, 0, ids[1])  # someone took the second dose's last seat
    before = await db_counts(svc.db)
    error = error_of(await book(client, token, [person(0)], ids), 409, "slot_taken")
    assert await db_counts(svc.db) == before  # not even the first dose
    fresh = error["details"]["offers"]
    assert fresh and all(ids[1] not in [a["slot_id"] for a in o["appointments"]] for o in fresh)
    retry = [a["slot_id"] for a in fresh[0]["appointments"]]
    assert (await book(client, token, [person(0)], retry)).status_code == 201


async def test_conflicts_and_expired_token(
    client: Client, svc: Services, get_token: GetToken, clock: FixedClock
) -> None:
    token, ids = await get_token(0), await offer_ids(client)
    assert (await book(client, token, [person(0)], ids)).status_code == 201
    before = await db_counts(svc.db)

    reused = await book(client, token, [person(1)], ids)
    assert "verify" in error_of(reused, 409, "token_used")["message"]
    second_phone = await get_token(1)
    twice = await book(client, second_phone, [person(0)], ids)
    assert "active booking" in error_of(twice, 409, "already_booked")["message"]
    assert (await db_counts(svc.db))["bookings"] == before["bookings"]

    clock.advance(timedelta(hours=2))
    expired = await book(client, second_phone, [person(1)], ids)
    error_of(expired, 401, "token_invalid")
    assert (await db_counts(svc.db))["bookings"] == before["bookings"]
