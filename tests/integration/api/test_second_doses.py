"""The second dose on the spot (API.md, "Centre staff"; centre/spot.py), on SQLite and
PostgreSQL: by code after a first dose given today, or by a person's data after a first
dose elsewhere; always inside the interval, at public seats, audited, confirmed by SMS;
refused with what to do when a second appointment exists, the series is complete or late,
nothing is free, or the centre is not the account's."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from kontingent.app import Services
from kontingent.clock import BERLIN, FixedClock
from kontingent.schema import appointments, bookings, outbox, slots
from kontingent.staff.audit import Actor, Channel, Entry
from kontingent.staff.model import Role
from kontingent.staff.tables import audit_log
from tests.integration.api.conftest import GetToken
from tests.integration.api.spot_helpers import (
    Client,
    active_codes,
    booked_pair,
    dose_start,
    free_second,
    record,
)
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.staff.conftest import PASSWORD, add_accounts
from tests.support import BIELEFELD, error_of, fill_centre, person, phone

URL = "/api/v1/staff/second-doses"
BNT_MIN, BNT_MAX = 21, 42


def day_of(answer: dict[str, Any]) -> date:
    return datetime.fromisoformat(answer["start"]).astimezone(BERLIN).date()


def typed_in(i: int, first_dose: date, **overrides: Any) -> dict[str, Any]:
    """A person who brings a first dose given elsewhere."""
    body = {
        "centre_id": BIELEFELD,
        "first_name": "Gerda",
        "last_name": f"Anderswo{chr(ord('a') + i)}",
        "birth_date": "1940-02-03",
        "phone": f"0170 {2000000 + i}",
        "first_dose_date": first_dose.isoformat(),
        "vaccine": "BNT",
    }
    return {**body, **overrides}


async def audited(svc: Services) -> list[tuple[str, str | None, dict[str, Any]]]:
    query = select(audit_log).where(audit_log.c.action == "second_dose.book")
    async with svc.db.read() as conn:
        return [(r.username, r.target, r.details) for r in await conn.execute(query)]


async def sms_to(svc: Services, number: str) -> list[str]:
    query = select(outbox.c.body).where(outbox.c.recipient == number, outbox.c.channel == "sms")
    async with svc.db.read() as conn:
        return list((await conn.execute(query)).scalars())


async def test_by_code_after_a_first_dose_given_today(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    first = await booked_pair(client, get_token, 1)
    code, first_start = first["code"], dose_start(first, 1)
    clock.set(first_start + timedelta(minutes=10))  # at the desk after the jab
    staff = await bearer(client, Role.centre_staff)

    not_yet = error_of(await client.post(URL, json={"code": code}, headers=staff), 409)
    assert not_yet["code"] == "first_dose_not_given" and "record" in not_yet["message"]
    await record(svc, code, 1, "vaccinated")
    held = error_of(await client.post(URL, json={"code": code}, headers=staff), 409)
    assert held["code"] == "second_dose_held"
    assert held["details"]["day"] == dose_start(first, 2).date().isoformat()
    await free_second(svc, code)  # the pair's second appointment is gone

    answer = await client.post(URL, json={"code": code.lower()}, headers=staff)
    assert answer.status_code == 201, answer.text
    done = answer.json()
    first_day = first_start.astimezone(BERLIN).date()
    assert first_day + timedelta(BNT_MIN) <= day_of(done) <= first_day + timedelta(BNT_MAX)
    assert (done["centre_id"], done["channel"], done["vaccine"]) == (BIELEFELD, "on_site", "BNT")
    assert done["code"] != code
    assert [(a["dose"], a["first_name"]) for a in done["appointments"]] == [(2, "Erika")]
    async with svc.db.read() as conn:
        row = (
            await conn.execute(
                select(appointments.c.dose, appointments.c.status, bookings.c.channel)
                .join(bookings, bookings.c.id == appointments.c.booking_id)
                .where(appointments.c.id == done["appointment_id"])
            )
        ).one()
    assert tuple(row) == (2, "booked", "on_site")
    # One active booking: the new one; the first keeps its code and its record of dose 1.
    assert await active_codes(svc, person(1)["last_name"]) == [done["code"]]
    assert [(u, t, d["by"], d["first_booking"]) for u, t, d in await audited(svc)] == [
        ("centre.carl", done["code"], "code", code)
    ]
    assert any(done["code"] in body for body in await sms_to(svc, phone(1)))

    again = error_of(await client.post(URL, json={"code": code}, headers=staff), 409)
    assert again["code"] == "second_dose_held"


async def test_a_first_dose_given_elsewhere_gets_one_inside_the_interval(
    client: Client, svc: Services, clock: FixedClock
) -> None:
    await add_accounts(svc)
    staff = await bearer(client, Role.centre_staff)
    today = clock.now().astimezone(BERLIN).date()
    first = today - timedelta(days=3)
    body = typed_in(0, first, email="gerda@example.org", language="en")
    keyed = {**staff, "Idempotency-Key": "desk-1"}

    answer = await client.post(URL, json=body, headers=keyed)
    assert answer.status_code == 201, answer.text
    done = answer.json()
    assert first + timedelta(BNT_MIN) <= day_of(done) <= first + timedelta(BNT_MAX)
    assert day_of(done) == first + timedelta(BNT_MIN)  # the recommended day had seats
    assert done["language"] == "en"
    replay = await client.post(URL, json=body, headers=keyed)
    assert (replay.status_code, replay.json()) == (201, done)
    sms = await sms_to(svc, "+491702000000")
    assert len(sms) == 1 and done["code"] in sms[0] and "Dose 2:" in sms[0]

    twice = await client.post(URL, json=body, headers={**staff, "Idempotency-Key": "desk-2"})
    assert error_of(twice, 409, "second_dose_held")["details"]["code_held"] == done["code"]
    reused = await client.post(URL, json={**body, "vaccine": "MOD"}, headers=keyed)
    error_of(reused, 422, "idempotency_key_reused")
    assert len(await audited(svc)) == 1


async def test_refusals_say_what_to_fix_and_change_nothing(
    client: Client, svc: Services, clock: FixedClock
) -> None:
    await add_accounts(svc)
    staff = await bearer(client, Role.centre_staff)
    today = clock.now().astimezone(BERLIN).date()
    cases = [
        (typed_in(1, today - timedelta(days=50)), 422, "outside_interval"),
        (typed_in(1, today + timedelta(days=1)), 422, "invalid_first_dose_date"),
        (typed_in(1, today, vaccine="JNJ"), 422, "single_dose_vaccine"),
        (typed_in(1, today, vaccine="XYZ"), 422, "unknown_vaccine"),
        (typed_in(1, today, phone="0251 1234567"), 422, "invalid_person"),
        (typed_in(1, today, first_name=""), 422, "invalid_person"),
        (typed_in(1, today, centre_id=None), 422, "invalid_centre"),
        ({"code": "K7QM-3XPA-9RTD"}, 404, "unknown_code"),
        ({"code": "K7QM"}, 422, "invalid_code"),
    ]
    for body, status, code in cases:
        error = error_of(await client.post(URL, json=body, headers=staff), status, code)
        if code == "invalid_person":
            assert set(error["details"]["fields"]) <= {"phone", "first_name"}, error
    late = error_of(await client.post(URL, json=cases[0][0], headers=staff), 422)
    assert late["details"]["until"] == (today - timedelta(days=50 - BNT_MAX)).isoformat()
    assert await audited(svc) == []


async def test_no_free_public_seat_in_the_interval_names_the_next_free_day(
    client: Client, svc: Services, clock: FixedClock
) -> None:
    await add_accounts(svc)
    staff = await bearer(client, Role.centre_staff)
    today = clock.now().astimezone(BERLIN).date()
    first = today - timedelta(days=10)
    await fill_centre(svc.db, BIELEFELD, "BNT")
    nothing = error_of(await client.post(URL, json=typed_in(2, first), headers=staff), 409)
    assert nothing["code"] == "no_second_dose_seat" and nothing["details"]["next_free"] is None
    # Seats kept for the hotline are not the desk's; a public seat after the window is named.
    last = first + timedelta(BNT_MAX)
    async with svc.db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == "BNT")
            .where(slots.c.day == first + timedelta(BNT_MIN))
            .values(booked=slots.c.capacity - 1, phone_reserved=1)
        )
        later = (
            await conn.execute(
                update(slots)
                .where(slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == "BNT")
                .where(slots.c.day == last + timedelta(days=3))
                .values(booked=slots.c.capacity - 1)
                .returning(slots.c.id)
            )
        ).all()
    assert later, "the seeded slots reach past the window"
    refused = error_of(await client.post(URL, json=typed_in(2, first), headers=staff), 409)
    assert refused["details"]["next_free"] == (last + timedelta(days=3)).isoformat()
    assert refused["details"]["window_until"] == last.isoformat()
    assert "outside the interval" in refused["message"]


async def test_another_centres_staff_get_403_and_nothing_is_booked(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    by_cli = Entry(Actor("cli:test"), "", Channel.cli)
    await svc.staff.add_user("centre.dora", Role.centre_staff, PASSWORD, [2], by_cli)
    first = await booked_pair(client, get_token, 3)
    clock.set(dose_start(first, 1) + timedelta(minutes=5))
    await record(svc, first["code"], 1, "vaccinated")
    await free_second(svc, first["code"])
    token = await client.post(
        "/api/v1/auth/token", json={"username": "centre.dora", "password": PASSWORD}
    )
    dora = {"Authorization": f"Bearer {token.json()['token']}"}
    today = clock.now().astimezone(BERLIN).date()
    for body in ({"code": first["code"]}, typed_in(4, today - timedelta(days=2))):
        error_of(await client.post(URL, json=body, headers=dora), 403, "wrong_centre")
    agent = await bearer(client, Role.agent)
    error_of(await client.post(URL, json={"code": first["code"]}, headers=agent), 403)
    admin = await bearer(client, Role.admin)  # an admin may book at any centre
    assert (await client.post(URL, json={"code": first["code"]}, headers=admin)).status_code == 201
    assert [u for u, _, _ in await audited(svc)] == ["admin.ada"]


async def test_existing_bookings_decide_for_a_person_typed_in(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    """A pair still ahead or completed: second_dose_held; a first dose given here earlier with
    its second freed: booked, the first booking's person retired."""
    await add_accounts(svc)
    first = await booked_pair(client, get_token, 5)
    who = person(5)
    body = typed_in(
        5, dose_start(first, 1).date(), first_name=who["first_name"],
        last_name=who["last_name"], birth_date=who["birth_date"],
    )  # fmt: skip
    clock.set(dose_start(first, 1) + timedelta(days=2))
    staff = await bearer(client, Role.centre_staff)  # a token of that day
    error_of(await client.post(URL, json=body, headers=staff), 409, "second_dose_held")
    await free_second(svc, first["code"])
    pending = error_of(await client.post(URL, json=body, headers=staff), 409)
    assert pending["code"] == "first_dose_booked"  # never recorded as given
    await record(svc, first["code"], 1, "vaccinated")
    answer = await client.post(URL, json=body, headers=staff)
    assert answer.status_code == 201, answer.text
    assert await active_codes(svc, who["last_name"]) == [answer.json()["code"]]
