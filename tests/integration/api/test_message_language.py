"""The API's optional `language` (issue 14, item 8) and `vaccine` (item 3), on both dialects:
a booking made with "en" gets English SMS and e-mail and keeps its language for later
messages; absent, messages are German; a PIN asked for in English comes in English; a booking
naming another vaccine than its slots' is refused and books nothing."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services
from kontingent.schema import outbox
from tests.integration.api.test_booking_api import GetToken, offer_ids
from tests.support import db_counts, error_of, person, phone, read_pin

Client = AsyncTestClient[Litestar]


async def bodies(svc: Services, to: str) -> list[str]:
    async with svc.db.read() as conn:
        query = select(outbox.c.body).where(outbox.c.recipient == to).order_by(outbox.c.id)
        return list((await conn.execute(query)).scalars().all())


async def test_a_booking_in_english_is_confirmed_and_cancelled_in_english(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    body = {"persons": [person(0)], "slot_ids": await offer_ids(client), "language": "en"}
    headers = {"Authorization": f"Bearer {await get_token(0)}"}
    made = await client.post("/api/v1/bookings", json=body, headers=headers)
    assert made.status_code == 201, made.text
    assert made.json()["language"] == "en"
    code = made.json()["code"]
    cancelled = await client.post(
        f"/api/v1/bookings/{code}/cancel", json={"birth_date": "1939-05-01"}
    )
    assert cancelled.status_code == 200
    sms = [b for b in await bodies(svc, phone(0)) if "PIN" not in b]
    assert sms[0].startswith("Vaccination booked (BioNTech/Comirnaty)")
    assert "are cancelled" in sms[1]
    mails = await bodies(svc, person(0)["email"])
    assert "Your vaccination appointments are booked." in mails[0]


async def test_without_a_language_messages_are_german(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    body = {"persons": [person(1)], "slot_ids": await offer_ids(client)}
    headers = {"Authorization": f"Bearer {await get_token(1)}"}
    made = await client.post("/api/v1/bookings", json=body, headers=headers)
    assert made.status_code == 201 and made.json()["language"] == "de"
    sms = [b for b in await bodies(svc, phone(1)) if "PIN" not in b]
    assert sms[0].startswith("Impftermin gebucht (BioNTech/Comirnaty)")


async def test_a_pin_asked_for_in_english_comes_in_english(client: Client, svc: Services) -> None:
    started = await client.post("/api/v1/verifications", json={"phone": phone(2), "language": "en"})
    assert started.status_code == 201
    assert await read_pin(svc, phone(2))
    (pin,) = await bodies(svc, phone(2))
    assert pin.startswith("Your PIN")
    refused = await client.post("/api/v1/verifications", json={"phone": phone(3), "language": "fr"})
    assert "language" in error_of(refused, 422)["details"]["fields"]


async def test_a_booking_naming_another_vaccine_than_its_slots_books_nothing(
    client: Client, svc: Services, get_token: GetToken
) -> None:
    ids = await offer_ids(client, vaccine="BNT")
    headers = {"Authorization": f"Bearer {await get_token(4)}"}
    before = await db_counts(svc.db)
    body = {"persons": [person(4)], "slot_ids": ids, "vaccine": "MOD"}
    refused = await client.post("/api/v1/bookings", json=body, headers=headers)
    error = error_of(refused, 422, "vaccine_mismatch")
    assert "BioNTech/Comirnaty" in error["message"] and "MOD" in error["message"]
    assert await db_counts(svc.db) == before
    body["vaccine"] = "BNT"
    assert (await client.post("/api/v1/bookings", json=body, headers=headers)).status_code == 201
