"""Agents on the phone and citizens on the web race for the last seats of one slot: one
booking path (booking/service.py), so neither channel overbooks. On SQLite and PostgreSQL
(there the single booking statement, with the agents' audit rows inside it), released at
once by a barrier (tests/integration/test_races.py); after the race, SQL proves the ledger
and that every agent booking that won has its audit row and every loser none."""

from __future__ import annotations

from functools import partial

import pytest
from sqlalchemy import func, select

from kontingent.agent.service import AgentDesk
from kontingent.app import Services
from kontingent.booking.service import BookingView, SlotTaken
from kontingent.errors import Overloaded
from kontingent.schema import bookings
from kontingent.staff.audit import Channel
from kontingent.staff.model import Principal, Role, SessionKind
from kontingent.staff.tables import audit_log
from tests.integration.staff.conftest import BY_CLI, PASSWORD, add_accounts
from tests.integration.test_races import (
    Scarcity,
    claims,
    ledger_problems,
    race,
    scarcity,  # noqa: F401 (a fixture)
    slot_fill,
)
from tests.support import person, phone

SEATS = 4  # the last seats of the slot pair
WEB, PHONE = 18, 6  # requests per channel: 90 % of them web, as in the benchmark's mix


async def agents(services: Services, count: int) -> list[Principal]:
    """`count` agents' principals, logged in as the API would log them in."""
    await add_accounts(services)
    found = []
    for i in range(count):
        name = f"agent.race{i}"
        await services.staff.add_user(name, Role.agent, PASSWORD, [], BY_CLI)
        login = await services.staff.login(name, PASSWORD, SessionKind.api, Channel.api, None)
        principal = await services.staff.authenticate(login.token, SessionKind.api)
        assert principal is not None
        found.append(principal)
    return found


@pytest.mark.slow
async def test_agents_and_citizens_racing_for_the_last_seats_never_overbook(
    services: Services,
    scarcity: Scarcity,  # noqa: F811
) -> None:
    ids = await scarcity({"F1": SEATS, "S1": SEATS})
    offer = [ids["F1"], ids["S1"]]
    web_claims = await claims(services, [phone(i) for i in range(WEB)])
    desk = AgentDesk.of(services)
    callers = [person(100 + i, phone=f"0521 {200000 + i}") for i in range(PHONE)]
    web = [partial(services.booking.book, c, [person(i)], offer) for i, c in enumerate(web_claims)]
    phoned = [
        partial(desk.book, agent, [caller], offer, None, Channel.api, "192.0.2.1")
        for agent, caller in zip(await agents(services, PHONE), callers, strict=True)
    ]

    outcomes = await race([*web, *phoned])

    won = [o for o in outcomes if isinstance(o, BookingView)]
    lost = [o for o in outcomes if isinstance(o, SlotTaken)]
    # On a busy machine SQLite's writers, queued for its one write lock, can outwait the
    # pool: a 503 with nothing done (the fill and ledger below prove it), never a half booking.
    waited = [o for o in outcomes if isinstance(o, Overloaded)]
    assert len(won) == SEATS and len(lost) + len(waited) == WEB + PHONE - SEATS, outcomes
    assert await slot_fill(services.db, ids) == {"F1": (SEATS, SEATS), "S1": (SEATS, SEATS)}
    assert await ledger_problems(services.db) == []
    async with services.db.read() as conn:
        on_phone = set(
            (
                await conn.execute(select(bookings.c.code).where(bookings.c.channel == "phone"))
            ).scalars()
        )
        audited = list(
            (
                await conn.execute(
                    select(audit_log.c.target).where(audit_log.c.action == "booking.create")
                )
            ).scalars()
        )
        total = (await conn.execute(select(func.count()).select_from(bookings))).scalar_one()
    assert total == SEATS
    assert sorted(audited) == sorted(on_phone)  # each phone winner audited, no loser
    assert on_phone == {v.code for v in won if v.channel == "phone"}
