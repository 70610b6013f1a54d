"""Checking people in at the centre's door (API.md, "Centre staff"), on SQLite and PostgreSQL:
by QR text or typed code, every appointment of the booking that day at once, twice harmless,
each scan audited with the change; forged, altered, foreign and malformed QR texts, another
centre's booking, the wrong day, a cancelled booking and an unknown code refused, changing
nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services
from kontingent.checkin.model import sign_ticket
from kontingent.clock import FixedClock
from kontingent.errors import Conflict
from kontingent.schema import appointments, bookings
from kontingent.staff.audit import Actor, Channel, Entry
from kontingent.staff.model import Role
from kontingent.staff.tables import audit_log
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.api.test_booking_api import book, offer_ids
from tests.integration.staff.conftest import PASSWORD, add_accounts
from tests.support import error_of, person

Client = AsyncTestClient[Litestar]
URL = "/api/v1/staff/checkins"
OTHER_CENTRE = 2


async def couple(client: Client, get_token: GetToken, i: int) -> dict[str, Any]:
    """A booking for two, made over HTTP; its answer."""
    people = [person(i), person(i + 1, first_name="Karl")]
    answer = await book(client, await get_token(i), people, await offer_ids(client, persons=2))
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def first_day(booking: dict[str, Any]) -> datetime:
    return min(datetime.fromisoformat(a["start"]) for a in booking["appointments"])


async def statuses(svc: Services, code: str) -> list[str]:
    query = (
        select(appointments.c.status)
        .join(bookings, bookings.c.id == appointments.c.booking_id)
        .where(bookings.c.code == code)
        .order_by(appointments.c.id)
    )
    async with svc.db.read() as conn:
        return list((await conn.execute(query)).scalars())


async def scans(svc: Services) -> list[tuple[str, str | None, dict[str, Any]]]:
    async with svc.db.read() as conn:
        query = select(audit_log).where(audit_log.c.action == "checkin").order_by(audit_log.c.id)
        return [(r.username, r.target, r.details) for r in await conn.execute(query)]


async def test_a_couple_is_checked_in_by_qr_on_its_day_and_a_second_scan_is_harmless(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    booking = await couple(client, get_token, 40)
    code = booking["code"]
    clock.set(first_day(booking) - timedelta(hours=1))  # the morning of the first doses
    staff = await bearer(client, Role.centre_staff)

    qr = sign_ticket(svc.settings.secret_key, code)
    answer = await client.post(URL, json={"qr": qr}, headers=staff)
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert (done["status"], done["code"], done["already"]) == ("checked_in", code, False)
    today = [a for a in done["appointments"]]
    assert [(a["dose"], a["status"]) for a in today] == [(1, "checked_in"), (1, "checked_in")]
    assert {a["first_name"] for a in today} == {"Erika", "Karl"}
    assert done["appointment_id"] == today[0]["appointment_id"]
    assert sorted(await statuses(svc, code)) == ["booked", "booked", "checked_in", "checked_in"]

    again = await client.post(URL, json={"code": code.lower()}, headers=staff)
    assert again.status_code == 200, again.text
    assert again.json()["already"] is True
    assert again.json()["appointments"] == done["appointments"]
    assert sorted(await statuses(svc, code)) == ["booked", "booked", "checked_in", "checked_in"]
    ids = sorted(a["appointment_id"] for a in today)
    assert await scans(svc) == [
        ("centre.carl", code, {"by": "qr", "checked_in": ids, "centre_id": booking["centre_id"]}),
        ("centre.carl", code, {"by": "code", "checked_in": [], "centre_id": booking["centre_id"]}),
    ]


async def test_forged_altered_foreign_and_malformed_qr_texts_change_nothing(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    booking = await couple(client, get_token, 42)
    code = booking["code"]
    clock.set(first_day(booking) - timedelta(hours=1))
    staff = await bearer(client, Role.centre_staff)
    genuine = sign_ticket(svc.settings.secret_key, code)
    altered = genuine[:-1] + ("A" if genuine[-1] != "A" else "B")
    foreign = sign_ticket("another deployment's key" * 2, code)
    other = sign_ticket(svc.settings.secret_key, "K7QM-3XPA-9RTD")
    forged = f"KT1:K7QM-3XPA-9RTD:{genuine.rsplit(':', 1)[1]}"  # a genuine MAC on another code
    for text in (altered, foreign, forged):
        error = error_of(await client.post(URL, json={"qr": text}, headers=staff), 422)
        assert (error["code"], error["details"]) == ("qr_not_genuine", {"field": "qr"})
    for text in ("https://example.org", code, genuine.replace(":", ";")):
        error_of(await client.post(URL, json={"qr": text}, headers=staff), 422, "qr_malformed")
    both = {"qr": genuine, "code": code}
    error_of(await client.post(URL, json=both, headers=staff), 422, "invalid_checkin")
    error_of(await client.post(URL, json={}, headers=staff), 422, "invalid_checkin")
    error_of(await client.post(URL, json={"code": "K7QM"}, headers=staff), 422, "invalid_code")
    unknown = await client.post(URL, json={"qr": other}, headers=staff)  # genuine, no booking
    error_of(unknown, 404, "unknown_code")
    assert await statuses(svc, code) == ["booked"] * 4
    assert await scans(svc) == []


async def test_another_centre_the_wrong_day_and_a_cancelled_booking_are_refused(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    entry = Entry(Actor("cli:test"), "", Channel.cli)
    await svc.staff.add_user("centre.dora", Role.centre_staff, PASSWORD, [OTHER_CENTRE], entry)
    booking = await couple(client, get_token, 44)
    code = booking["code"]
    clock.set(first_day(booking) - timedelta(days=1))  # the day before
    staff = await bearer(client, Role.centre_staff)
    error = error_of(await client.post(URL, json={"code": code}, headers=staff), 409, "wrong_day")
    assert first_day(booking).date().isoformat() in error["message"]

    clock.set(first_day(booking) - timedelta(hours=1))
    staff = await bearer(client, Role.centre_staff)
    token = await client.post(
        "/api/v1/auth/token", json={"username": "centre.dora", "password": PASSWORD}
    )
    elsewhere = {"Authorization": f"Bearer {token.json()['token']}"}
    error = error_of(await client.post(URL, json={"code": code}, headers=elsewhere), 403)
    assert error["code"] == "wrong_centre" and code not in error["message"]
    agent = await bearer(client, Role.agent)
    error_of(await client.post(URL, json={"code": code}, headers=agent), 403, "wrong_role")
    error_of(await client.post(URL, json={"code": code}), 401)
    assert await statuses(svc, code) == ["booked"] * 4

    await svc.booking.cancel(code, "1939-05-01")
    error_of(await client.post(URL, json={"code": code}, headers=staff), 409, "booking_cancelled")
    admin = await bearer(client, Role.admin)  # an admin may check in at any centre
    error_of(await client.post(URL, json={"code": code}, headers=admin), 409, "booking_cancelled")
    assert await scans(svc) == []


async def test_a_booking_checked_in_at_the_door_can_no_longer_be_moved(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    """A rebooking would put a new first dose beside the one the centre recorded."""
    await add_accounts(svc)
    booking = await couple(client, get_token, 60)
    code = booking["code"]
    clock.set(first_day(booking) - timedelta(hours=1))
    staff = await bearer(client, Role.centre_staff)
    assert (await client.post(URL, json={"code": code}, headers=staff)).status_code == 200
    before = await statuses(svc, code)

    other = await offer_ids(client, persons=2)
    with pytest.raises(Conflict) as refused:
        await svc.booking.rebook(code, person(60)["birth_date"], other)
    assert refused.value.code == "booking_under_way"
    assert await statuses(svc, code) == before
