"""Centre desks booking second doses on the spot race citizens on the web for the last seats
of one slot (centre/spot.py through booking/service.py), released at once by a barrier
(tests/integration/test_races.py). On PostgreSQL the web takes the single booking
statement and the desk the step-by-step path: both meet at the conditional update, so the
slot ends full and never over; every on-site winner sits inside its interval and has its
audit row, every loser is refused with nothing written. SQLite runs it too."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import select

from kontingent.app import Services
from kontingent.booking.service import BookingView, SlotTaken
from kontingent.centre.spot import SpotBooked, SpotDesk, SpotRequest
from kontingent.clock import BERLIN
from kontingent.errors import Conflict, Overloaded
from kontingent.inventory.model import local_day
from kontingent.schema import appointments, bookings, slots
from kontingent.staff.audit import Channel
from kontingent.staff.model import Principal, Role, SessionKind
from kontingent.staff.tables import audit_log
from tests.integration.staff.conftest import BY_CLI, PASSWORD
from tests.integration.test_races import (
    Scarcity,
    claims,
    ledger_problems,
    race,
    scarcity,  # noqa: F401 (a fixture)
    slot_fill,
)
from tests.support import BIELEFELD, T0, person, phone

SEATS = 4  # the last seats of the second-dose slot
WEB, DESK = 8, 6
FIRST_DOSE = local_day(T0) - timedelta(days=19)  # window: T0 + 2 .. T0 + 23 days, S1 inside


async def desk_staff(services: Services, count: int) -> list[Principal]:
    found = []
    for i in range(count):
        name = f"centre.race{i}"
        await services.staff.add_user(name, Role.centre_staff, PASSWORD, [BIELEFELD], BY_CLI)
        login = await services.staff.login(name, PASSWORD, SessionKind.api, Channel.api, None)
        principal = await services.staff.authenticate(login.token, SessionKind.api)
        assert principal is not None
        found.append(principal)
    return found


def typed_in(i: int) -> SpotRequest:
    return SpotRequest(
        centre_id=BIELEFELD, first_name="Gerda", last_name=f"Wettlauf{chr(ord('a') + i)}",
        birth_date="1941-03-04", phone=f"0171 {3000000 + i}",
        first_dose_date=FIRST_DOSE.isoformat(), vaccine="BNT",
    )  # fmt: skip


async def test_desks_and_citizens_racing_for_the_last_second_dose_seats_never_overbook(
    services: Services,
    scarcity: Scarcity,  # noqa: F811
) -> None:
    ids = await scarcity({"F1": SEATS * 2, "S1": SEATS})
    offer = [ids["F1"], ids["S1"]]
    web_claims = await claims(services, [phone(i) for i in range(WEB)])
    web = [partial(services.booking.book, c, [person(i)], offer) for i, c in enumerate(web_claims)]
    desk = SpotDesk.of(services)
    desks = [
        partial(desk.book, staff, typed_in(i), None, Channel.api, "192.0.2.7")
        for i, staff in enumerate(await desk_staff(services, DESK))
    ]

    outcomes = await race([*web, *desks])

    on_site = [o for o in outcomes if isinstance(o, SpotBooked)]
    online = [o for o in outcomes if isinstance(o, BookingView)]
    refused = [o for o in outcomes if isinstance(o, SlotTaken | Conflict | Overloaded)]
    assert len(on_site) + len(online) == SEATS, outcomes
    assert len(refused) == WEB + DESK - SEATS, outcomes
    assert await slot_fill(services.db, ids) == {
        "F1": (len(online), SEATS * 2),
        "S1": (SEATS, SEATS),
    }
    codes = {b.view.code for b in on_site}
    # The shared ledger reads every booking as a pair; an on-site one holds dose 2 alone.
    assert [p for p in await ledger_problems(services.db) if p.split()[1] not in codes] == []
    async with services.db.read() as conn:
        rows = (
            await conn.execute(
                select(bookings.c.code, appointments.c.dose, slots.c.starts_at)
                .join(appointments, appointments.c.booking_id == bookings.c.id)
                .join(slots, slots.c.id == appointments.c.slot_id)
                .where(bookings.c.channel == "on_site")
            )
        ).all()
        audited = set(
            (
                await conn.execute(
                    select(audit_log.c.target).where(audit_log.c.action == "second_dose.book")
                )
            ).scalars()
        )
    assert {r.code for r in rows} == codes == audited
    for row in rows:
        day = row.starts_at.astimezone(BERLIN).date()
        assert row.dose == 2
        assert FIRST_DOSE + timedelta(days=21) <= day <= FIRST_DOSE + timedelta(days=42)
