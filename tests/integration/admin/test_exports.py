"""CSV exports on SQLite and PostgreSQL: parsed back with csv and `;`, they hold exactly the
appointments SQL finds for the centre and day, start with a byte-order mark, are audited
before they stream, and refuse an unknown centre or a malformed day with a clear 4xx."""

from __future__ import annotations

import csv
import io

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from kontingent.admin.exports import BOOKING_HEADER, STATS_HEADER, cell
from kontingent.app import Services
from kontingent.clock import BERLIN
from kontingent.schema import appointments, slots
from kontingent.staff.model import Role
from kontingent.staff.tables import audit_log
from tests.integration.admin.conftest import make_bookings
from tests.integration.admin.test_dashboard import browser_session
from tests.integration.api.test_agent_lookups import bearer
from tests.integration.staff.conftest import add_accounts
from tests.support import BIELEFELD, error_of

Client = AsyncTestClient[Litestar]


def parsed(body: bytes) -> list[list[str]]:
    assert body.startswith("\ufeff".encode()), body[:20]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


async def audited(services: Services, action: str) -> list[str | None]:
    async with services.db.read() as conn:
        query = select(audit_log.c.target).where(audit_log.c.action == action)
        return [r.target for r in await conn.execute(query)]


async def test_the_day_list_of_a_centre(client: Client, services: Services) -> None:
    await add_accounts(services)
    made = await make_bookings(services)
    day = made[0].appointments[0].starts_at.astimezone(BERLIN).date()
    admin = await bearer(client, Role.admin)
    answer = await client.get(
        "/api/v1/admin/exports/bookings.csv",
        params={"centre_id": BIELEFELD, "date": str(day)},
        headers=admin,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = parsed(answer.content)
    assert tuple(rows[0]) == BOOKING_HEADER
    async with services.db.read() as conn:
        expected = (
            await conn.execute(
                select(func.count())
                .select_from(appointments.join(slots))
                .where(slots.c.centre_id == BIELEFELD, slots.c.day == day)
            )
        ).scalar_one()
    assert len(rows) - 1 == expected > 0
    codes = {made_one.code for made_one in made}
    assert {r[2] for r in rows[1:]} <= codes
    assert all(r[0].startswith(str(day)) for r in rows[1:])
    assert await audited(services, "bookings_exported") == [f"centre {BIELEFELD} day {day}"]


async def test_refusals_and_the_statistics_file(client: Client, services: Services) -> None:
    await add_accounts(services)
    await make_bookings(services)
    admin = await bearer(client, Role.admin)
    url = "/api/v1/admin/exports/bookings.csv"
    error_of(
        await client.get(url, params={"centre_id": 9999}, headers=admin), 404, "unknown_centre"
    )
    error_of(
        await client.get(url, params={"date": "12.01.2026"}, headers=admin), 422, "invalid_input"
    )
    assert await audited(services, "bookings_exported") == []
    answer = await client.get("/api/v1/admin/exports/stats.csv", headers=admin)
    rows = parsed(answer.content)
    assert tuple(rows[0]) == STATS_HEADER
    figures = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert figures[("total", "", "bookings")] == "3"
    assert figures[("channel", "phone", "bookings")] == "1"
    assert await audited(services, "stats_exported") == ["statistics"]
    await browser_session(client, services)
    page = await client.get("/admin/exports/stats.csv")
    assert page.status_code == 200 and parsed(page.content)[0] == list(STATS_HEADER)


def test_a_cell_a_spreadsheet_would_run_is_defused() -> None:
    assert cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert cell("@SUM(A1)") == "'@SUM(A1)" and cell("-1+2") == "'-1+2"
    assert cell("+49 170 1234567") == "+49 170 1234567"  # a phone number stays as it is
    assert cell(None) == "" and cell(3) == "3"
