"""Two lanes recording the same person at the same moment (on SQLite and PostgreSQL; the
calls are released together by an `asyncio.Barrier`, no sleeps): the conditional updates let
exactly one win, the other gets a 409 and changes nothing; a second dose freed by two no-show
calls at once gives its seat back once. Checked with SQL afterwards."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from kontingent.app import Services
from kontingent.centre.service import Acting, CentreDesk
from kontingent.clock import BERLIN, FixedClock
from kontingent.errors import Conflict
from kontingent.schema import appointments, slots
from kontingent.staff.audit import Channel
from kontingent.staff.model import Role, SessionKind
from kontingent.staff.tables import audit_log
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_checkins import couple, first_day
from tests.integration.centre.conftest import Client
from tests.integration.staff.conftest import ACCOUNTS, add_accounts
from tests.integration.test_races import race

LANES = 6


async def acting(svc: Services) -> Acting:
    account = ACCOUNTS[Role.centre_staff]
    login = await svc.staff.login(
        account.username, account.password, SessionKind.api, Channel.api, None
    )
    principal = await svc.staff.authenticate(login.token, SessionKind.api)
    assert principal is not None
    return Acting(principal, Channel.api, None)


async def scalar(svc: Services, query: object) -> int:
    async with svc.db.read() as conn:
        return int((await conn.execute(query)).scalar_one())  # type: ignore[call-overload]


async def test_lanes_racing_for_one_person_record_them_once(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    booking = await couple(client, get_token, 96)
    clock.set(first_day(booking) + timedelta(minutes=10))
    desk = CentreDesk(svc.db, svc.clock, svc.inventory)
    who = await acting(svc)
    day = first_day(booking).astimezone(BERLIN).date()
    erika, karl = [v for v in await desk.day(who.principal, 1, day) if v.code == booking["code"]]

    batches = [f"LANE-{i}" for i in range(LANES)]
    results = await race(
        [lambda b=b: desk.vaccinate(who, erika.appointment_id, b) for b in batches]  # type: ignore[misc]
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == LANES - 1
    assert all(isinstance(e, Conflict) for e in lost), lost
    stored = select(appointments.c.batch).where(appointments.c.id == erika.appointment_id)
    async with svc.db.read() as conn:
        assert (await conn.execute(stored)).scalar_one() == won[0].batch
    vaccinated = (
        select(func.count()).select_from(audit_log).where(audit_log.c.action == "vaccinated")
    )
    assert await scalar(svc, vaccinated) == 1

    second = next(a["slot_id"] for a in booking["appointments"] if a["dose"] == 2)
    booked = select(slots.c.booked).where(slots.c.id == second)
    before = await scalar(svc, booked)
    results = await race(
        [lambda: desk.no_show(who, karl.appointment_id, True) for _ in range(LANES)]
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    assert len(won) == 1 and len(won[0].freed) == 1, results
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    assert await scalar(svc, booked) == before - 1
    counted = (
        select(func.count())
        .select_from(appointments)
        .where(appointments.c.slot_id == second, appointments.c.status == "booked")
    )
    assert await scalar(svc, counted) == before - 1
