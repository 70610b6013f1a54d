"""The centre console's API (API.md, "Centre staff"), on SQLite and PostgreSQL: the day list as
JSON and as CSV German Excel opens (parsed back with `csv` and `;`), vaccinations with their
batch, no-shows that let a second dose go only when asked (its seat bookable at once), the
day-end "everyone not checked in", another centre's staff refused (403) everywhere, each
action audited, refused check-ins too."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from kontingent.app import Services, create_app
from kontingent.centre import repository as centre_repo
from kontingent.checkin.model import sign_ticket
from kontingent.clock import BERLIN, FixedClock
from kontingent.config import Settings
from kontingent.schema import appointments, slot_days, slots
from kontingent.staff.model import Role
from kontingent.staff.tables import audit_log
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.api.test_booking_api import slot_booked
from tests.integration.api.test_checkins import couple, first_day, statuses
from tests.integration.staff.conftest import BY_CLI, PASSWORD, add_accounts
from tests.support import BIELEFELD, error_of, person

Client = AsyncTestClient[Litestar]
OTHER_CENTRE = 2


def day_of(booking: dict[str, Any]) -> date:
    return first_day(booking).astimezone(BERLIN).date()


def list_url(on: date, fmt: str = "json", centre: int = BIELEFELD) -> str:
    return f"/api/v1/staff/centres/{centre}/appointments?date={on.isoformat()}&format={fmt}"


def ids_by_dose(booking: dict[str, Any], dose: int) -> list[int]:
    return [a["slot_id"] for a in booking["appointments"] if a["dose"] == dose]


async def appointment_ids(client: Client, staff: dict[str, str], on: date, code: str) -> list[int]:
    rows = (await client.get(list_url(on), headers=staff)).json()
    return [r["appointment_id"] for r in rows if r["code"] == code]


async def other_staff(client: Client, svc: Services) -> dict[str, str]:
    await svc.staff.add_user("centre.dora", Role.centre_staff, PASSWORD, [OTHER_CENTRE], BY_CLI)
    token = await client.post(
        "/api/v1/auth/token", json={"username": "centre.dora", "password": PASSWORD}
    )
    return {"Authorization": f"Bearer {token.json()['token']}"}


async def audited(svc: Services, action: str) -> list[tuple[str | None, dict[str, Any]]]:
    async with svc.db.read() as conn:
        query = select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)
        return [(r.target, r.details) for r in await conn.execute(query)]


async def test_the_day_list_as_json_and_as_csv_excel_opens(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    booking = await couple(client, get_token, 70)
    on = day_of(booking)
    clock.set(first_day(booking) - timedelta(hours=2))
    staff = await bearer(client, Role.centre_staff)
    rows = (await client.get(list_url(on), headers=staff)).json()
    mine = [r for r in rows if r["code"] == booking["code"]]
    assert {r["last_name"] for r in mine} == {person(70)["last_name"], person(71)["last_name"]}
    assert {(r["dose"], r["status"], r["birth_date"]) for r in mine} == {
        (1, "booked", "1939-05-01")
    }
    answer = await client.get(list_url(on, "csv"), headers=staff)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.content.startswith(b"\xef\xbb\xbf")  # the BOM German Excel looks for
    table = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert table[0][:3] == ["start", "dose", "code"]
    assert len(table) == len(rows) + 1
    parsed = [line for line in table[1:] if line[2] == booking["code"]]
    assert {line[5] for line in parsed} == {"01.05.1939"}
    assert {line[3] for line in parsed} == {r["last_name"] for r in mine}
    start = datetime.fromisoformat(mine[0]["start"])
    assert parsed[0][0] == start.strftime("%d.%m.%Y %H:%M")

    elsewhere = await other_staff(client, svc)
    error_of(await client.get(list_url(on), headers=elsewhere), 403, "wrong_centre")
    error_of(await client.get(list_url(on, "csv"), headers=elsewhere), 403, "wrong_centre")
    agent = await bearer(client, Role.agent)
    error_of(await client.get(list_url(on), headers=agent), 403, "wrong_role")


async def test_a_vaccination_is_recorded_with_its_batch_once_and_only_on_its_day(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    booking = await couple(client, get_token, 72)
    code, on = booking["code"], day_of(booking)
    clock.set(first_day(booking) - timedelta(days=1))
    staff = await bearer(client, Role.centre_staff)
    first, second = await appointment_ids(client, staff, on, code)
    url = f"/api/v1/staff/appointments/{first}/vaccinated"
    error_of(await client.post(url, json={"batch": "EX1234"}, headers=staff), 409, "wrong_day")
    clock.set(first_day(booking))
    staff = await bearer(client, Role.centre_staff)
    for bad in ("ab", "EX 1234", "Ä1234", "X" * 21):
        error = error_of(await client.post(url, json={"batch": bad}, headers=staff), 422)
        assert error["code"] == "invalid_batch", bad
    elsewhere = await other_staff(client, svc)
    refused = await client.post(url, json={"batch": "EX1234"}, headers=elsewhere)
    error_of(refused, 403, "wrong_centre")
    assert await statuses(svc, code) == ["booked"] * 4

    done = await client.post(url, json={"batch": " ex1234-a "}, headers=staff)
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["batch"]) == ("vaccinated", "EX1234-A")
    again = await client.post(url, json={"batch": "EX1234-A"}, headers=staff)
    error_of(again, 409, "already_vaccinated")
    assert sorted(await statuses(svc, code)) == ["booked", "booked", "booked", "vaccinated"]
    assert await audited(svc, "vaccinated") == [
        (code, {"appointment_id": first, "dose": 1, "vaccine": "BNT", "batch": "EX1234-A",
                "centre_id": BIELEFELD}),
    ]  # fmt: skip
    async with svc.db.read() as conn:
        row = (await conn.execute(select(appointments).where(appointments.c.id == first))).one()
    assert row.vaccinated_at == first_day(booking) and row.checked_in_at is not None
    error_of(await client.post(f"/api/v1/staff/appointments/{second + 10**6}/vaccinated",
                               json={"batch": "EX1234"}, headers=staff), 404)  # fmt: skip


async def seats(svc: Services, slot_id: int) -> tuple[int, int]:
    """(slots.booked, the slot_days sum of booked for its key)."""
    async with svc.db.read() as conn:
        slot = (await conn.execute(select(slots).where(slots.c.id == slot_id))).one()
        summed = select(func.sum(slot_days.c.booked)).where(
            slot_days.c.centre_id == slot.centre_id,
            slot_days.c.vaccine_code == slot.vaccine_code,
            slot_days.c.day == slot.day,
        )
        return slot.booked, int((await conn.execute(summed)).scalar_one())


async def free_on(client: Client, day: str) -> int:
    """The week view's free first doses at the centre on `day` (cached by the inventory)."""
    url = f"/api/v1/centres/{BIELEFELD}/days?vaccine=BNT&from={day}"
    days = (await client.get(url)).json()["days"]
    return int(next(d["free"] for d in days if d["day"] == day))


async def test_a_no_show_frees_the_second_dose_only_when_confirmed(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken, settings: Settings
) -> None:
    await add_accounts(svc)
    booking = await couple(client, get_token, 74)
    code, on = booking["code"], day_of(booking)
    [second_slot] = set(ids_by_dose(booking, 2))
    second_day = {a["start"][:10] for a in booking["appointments"] if a["dose"] == 2}.pop()
    clock.set(first_day(booking) - timedelta(minutes=5))
    # The week view cached for ten minutes: only the no-show's own invalidation shows the seat.
    cached = dataclasses.replace(settings, availability_ttl_s=600)
    async with AsyncTestClient(create_app(cached, clock)) as centre:
        staff = await bearer(centre, Role.centre_staff)
        erika, karl = await appointment_ids(centre, staff, on, code)
        url = "/api/v1/staff/appointments/{}/no-show"
        early = await centre.post(url.format(erika), json={}, headers=staff)
        error_of(early, 409, "not_yet_due")

        clock.set(first_day(booking) + timedelta(minutes=20))
        staff = await bearer(centre, Role.centre_staff)
        before = await seats(svc, second_slot)
        seen = await slot_booked(centre, second_slot)
        free_before = await free_on(centre, second_day)  # cached from here
        kept = await centre.post(url.format(erika), json={}, headers=staff)
        assert kept.json() == {"no_show": [erika], "freed": []}
        assert await seats(svc, second_slot) == before
        assert sorted(await statuses(svc, code)) == ["booked", "booked", "booked", "no_show"]

        freed = await centre.post(url.format(karl), json={"free_second_dose": True}, headers=staff)
        assert freed.status_code == 200, freed.text
        assert freed.json()["no_show"] == [karl] and len(freed.json()["freed"]) == 1
        assert await seats(svc, second_slot) == (before[0] - 1, before[1] - 1)
        assert await slot_booked(centre, second_slot) == seen - 1  # bookable at once
        assert await free_on(centre, second_day) == free_before + 1  # and offered at once
        assert sorted(await statuses(svc, code)) == ["booked", "cancelled", "no_show", "no_show"]
        again = await centre.post(url.format(karl), json={}, headers=staff)
        error_of(again, 409, "not_booked")
    assert [d["freed"] for _, d in await audited(svc, "no_show")] == [[], freed.json()["freed"]]


async def test_everyone_not_checked_in_at_the_day_end_and_nobody_else(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    came = await couple(client, get_token, 76)
    missed = await couple(client, get_token, 78)
    on = day_of(came)
    assert day_of(missed) == on
    clock.set(max(first_day(came), first_day(missed)) + timedelta(minutes=30))
    staff = await bearer(client, Role.centre_staff)
    checked = await client.post("/api/v1/staff/checkins", json={"code": came["code"]},
                                headers=staff)  # fmt: skip
    assert checked.status_code == 200, checked.text
    url = f"/api/v1/staff/centres/{BIELEFELD}/no-shows"
    elsewhere = await other_staff(client, svc)
    error_of(await client.post(url, json={"date": on.isoformat()}, headers=elsewhere), 403)
    done = await client.post(url, json={"date": on.isoformat()}, headers=staff)
    assert done.status_code == 200, done.text
    assert sorted(done.json()["no_show"]) == sorted(
        await appointment_ids(client, staff, on, missed["code"])
    )
    assert done.json()["freed"] == []
    assert sorted(await statuses(svc, missed["code"])) == ["booked", "booked", "no_show", "no_show"]
    assert sorted(await statuses(svc, came["code"])) == [
        "booked",
        "booked",
        "checked_in",
        "checked_in",
    ]
    again = await client.post(url, json={"date": on.isoformat()}, headers=staff)
    assert again.json() == {"no_show": [], "freed": []}


async def test_the_day_figures_equal_counts_taken_in_sql(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    one = await couple(client, get_token, 80)
    two = await couple(client, get_token, 82)
    on = day_of(one)
    clock.set(max(first_day(one), first_day(two)) + timedelta(minutes=30))
    staff = await bearer(client, Role.centre_staff)
    a1, _ = await appointment_ids(client, staff, on, one["code"])
    b1, b2 = await appointment_ids(client, staff, on, two["code"])
    vacc = "/api/v1/staff/appointments/{}/vaccinated"
    assert (await client.post(vacc.format(a1), json={"batch": "AB123"}, headers=staff)).is_success
    noshow = "/api/v1/staff/appointments/{}/no-show"
    for appointment in (b1, b2):
        assert (await client.post(noshow.format(appointment), json={}, headers=staff)).is_success

    async with svc.db.read() as conn:
        figures = await centre_repo.day_figures(
            conn, on - timedelta(days=1), on + timedelta(days=60)
        )
        counted = (
            select(slots.c.day, slots.c.centre_id, appointments.c.dose, appointments.c.status,
                   func.count())
            .join(slots, slots.c.id == appointments.c.slot_id)
            .where(appointments.c.status != "cancelled")
            .group_by(slots.c.day, slots.c.centre_id, appointments.c.dose, appointments.c.status)
        )  # fmt: skip
        rows = (await conn.execute(counted)).all()
    expected: dict[tuple[date, int], dict[str, Any]] = {}
    for day, centre, dose, status, n in rows:
        e = expected.setdefault((day, centre), {"due": 0, "no_show": 0, "vaccinated": {}})
        e["due"] += n
        if status == "no_show":
            e["no_show"] += n
        if status == "vaccinated":
            e["vaccinated"][dose] = n
    got = {(f.day, f.centre_id): {"due": f.due, "no_show": f.no_show, "vaccinated": f.vaccinated}
           for f in figures}  # fmt: skip
    assert got == expected
    today = next(f for f in figures if f.day == on and f.centre_id == BIELEFELD)
    assert today.vaccinated == {1: 1} and today.no_show == 2 and today.no_show_rate == 2 / 4
    async with svc.db.read() as conn:
        only = await centre_repo.day_figures(conn, on, on, centre_id=OTHER_CENTRE)
    assert only == []


async def test_a_refused_check_in_is_audited_and_changes_nothing_else(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    booking = await couple(client, get_token, 84)
    clock.set(first_day(booking) - timedelta(days=1))
    staff = await bearer(client, Role.centre_staff)
    url = "/api/v1/staff/checkins"
    error_of(await client.post(url, json={"code": booking["code"]}, headers=staff), 409)
    forged = sign_ticket("someone else's key" * 3, booking["code"])
    error_of(await client.post(url, json={"qr": forged}, headers=staff), 422, "qr_not_genuine")
    assert await audited(svc, "checkin_refused") == [
        (booking["code"], {"by": "code", "reason": "wrong_day"}),
        (booking["code"], {"by": "qr", "reason": "qr_not_genuine"}),
    ]
    assert await statuses(svc, booking["code"]) == ["booked"] * 4
