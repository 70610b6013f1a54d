"""The centre console's pages (on SQLite and PostgreSQL): one centre goes straight to its day,
another centre's pages are 403, a check-in by typed code and by a scanner's QR text shows its
outcome in large type (twice harmless, forged refused), the lane remembers its batch, a
no-show asks before it frees a second dose, the day-end page lists whom it marks, the print
page and the CSV; the pages allow this site's scripts only."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from kontingent.app import Services
from kontingent.checkin.model import sign_ticket
from kontingent.clock import BERLIN, FixedClock
from kontingent.schema import appointments, slots
from kontingent.staff.model import Role
from tests.integration.agent.conftest import Browser, Client
from tests.integration.api.conftest import GetToken
from tests.integration.api.test_checkins import couple, first_day, statuses
from tests.integration.centre.conftest import carl  # noqa: F401 (fixture)
from tests.integration.staff.conftest import add_accounts
from tests.support import BIELEFELD

DAY = f"/centre/{BIELEFELD}"


def notice(page: str) -> str:
    found = re.search(r'<div class="notice" role="status"><p>(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


def refusal(page: str) -> str:
    found = re.search(r'id="error-summary".*?<li>(?:<a [^>]*>)?(.*?)<', page, re.S)
    return found.group(1) if found else ""


async def test_one_centre_goes_straight_to_its_day_and_another_is_403(
    carl: Browser,  # noqa: F811
) -> None:
    start = await carl.get("/centre")
    assert (start.status_code, start.headers["location"]) == (303, DAY)
    page = await carl.open(DAY)
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'src="/static/centre/jsQR.js"' in page.text
    assert (await carl.get("/centre/2")).status_code == 403
    assert (await carl.get("/centre/2/print")).status_code == 403
    assert (await carl.get("/centre/2/day.csv")).status_code == 403
    assert (await carl.post("/centre/2/checkin", {"code": "x"})).status_code == 403
    assert (await carl.get("/static/centre/jsQR.js")).status_code == 200


async def test_check_in_by_code_and_qr_text_twice_harmless_forged_refused(
    carl: Browser,  # noqa: F811
    client: Client,
    svc: Services,
    clock: FixedClock,
    get_token: GetToken,
) -> None:
    booking = await couple(client, get_token, 90)
    code = booking["code"]
    clock.set(first_day(booking) - timedelta(minutes=30))
    await carl.log_in(Role.centre_staff)
    await carl.open(DAY)
    forged = sign_ticket("not our key" * 4, code)
    page = await carl.submit(f"{DAY}/checkin", {"code": forged})
    assert "gefälscht" in refusal(page.text)
    assert await statuses(svc, code) == ["booked"] * 4
    page = await carl.submit(f"{DAY}/checkin", {"code": code.replace("-", "").lower()})
    assert notice(page.text).startswith("Eingecheckt: Erika")
    scanned = sign_ticket(svc.settings.secret_key, code)  # as a USB scanner types it
    page = await carl.submit(f"{DAY}/checkin", {"code": scanned})
    assert notice(page.text).startswith("Schon eingecheckt")
    assert sorted(await statuses(svc, code)) == ["booked", "booked", "checked_in", "checked_in"]
    assert "<dt>Eingecheckt, wartet</dt><dd>2</dd>" in page.text


async def test_vaccinated_remembers_the_lane_batch_and_the_no_show_asks_first(
    carl: Browser,  # noqa: F811
    client: Client,
    svc: Services,
    clock: FixedClock,
    get_token: GetToken,
) -> None:
    booking = await couple(client, get_token, 92)
    code = booking["code"]
    clock.set(first_day(booking) + timedelta(minutes=10))
    await carl.log_in(Role.centre_staff)
    page = await carl.open(DAY, q=code)
    ids = [int(i) for i in re.findall(r"/appointments/(\d+)/vaccinated", page.text)]
    assert len(ids) == 2
    page = await carl.submit(f"{DAY}/appointments/{ids[0]}/vaccinated", {"batch": "x"})
    assert "Chargennummer" in refusal(page.text)
    page = await carl.submit(f"{DAY}/appointments/{ids[0]}/vaccinated", {"batch": "ab-123"})
    assert notice(page.text).startswith("Geimpft: Erika ")
    assert notice(page.text).endswith(", Charge AB-123.")
    assert (
        f'id="batch-{ids[1]}" name="batch" type="text" maxlength="40" value="AB-123"' in page.text
    )

    ask = await carl.open(f"{DAY}/appointments/{ids[1]}/no-show")
    assert ask.status_code == 200 and 'value="keep" checked' in ask.text
    assert sorted(await statuses(svc, code)) == ["booked", "booked", "booked", "vaccinated"]
    page = await carl.submit(f"{DAY}/appointments/{ids[1]}/no-show", {"second_dose": "free"})
    assert "freigegeben" in notice(page.text)
    assert sorted(await statuses(svc, code)) == ["booked", "cancelled", "no_show", "vaccinated"]
    assert counters(page.text) == await counted_in_sql(svc, first_day(booking))


def counters(page: str) -> dict[str, int]:
    found = re.findall(r"<dt>([^<]+)</dt><dd>(\d+)</dd>", page)
    return {name: int(n) for name, n in found}


async def counted_in_sql(svc: Services, at: datetime) -> dict[str, int]:
    """The day view's counters, counted in SQL over the centre's appointments that day."""
    query = (
        select(appointments.c.status, func.count())
        .join(slots, slots.c.id == appointments.c.slot_id)
        .where(slots.c.centre_id == BIELEFELD, slots.c.day == at.astimezone(BERLIN).date())
        .where(appointments.c.status != "cancelled")
        .group_by(appointments.c.status)
    )
    async with svc.db.read() as conn:
        n = {status: count for status, count in (await conn.execute(query)).all()}
    return {
        "Erwartet": sum(n.values()),
        "Eingecheckt, wartet": n.get("checked_in", 0),
        "Geimpft": n.get("vaccinated", 0),
        "Nicht erschienen": n.get("no_show", 0),
        "Noch erwartet": n.get("booked", 0),
    }


async def test_day_end_print_page_and_csv(
    carl: Browser,  # noqa: F811
    client: Client,
    svc: Services,
    clock: FixedClock,
    get_token: GetToken,
) -> None:
    booking = await couple(client, get_token, 94)
    code = booking["code"]
    on = first_day(booking)
    clock.set(on - timedelta(days=1))
    await carl.log_in(Role.centre_staff)
    printed = await carl.open(f"{DAY}/print")  # tomorrow's by default
    assert printed.status_code == 200 and code in printed.text
    listed = await carl.get(f"{DAY}/day.csv", date=on.date().isoformat())
    rows = list(csv.reader(io.StringIO(listed.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Termin", "Impfung", "Buchungscode"]
    assert code in {r[2] for r in rows[1:]}

    clock.set(on + timedelta(hours=1))
    await carl.log_in(Role.centre_staff)
    ask = await carl.open(f"{DAY}/no-shows", date=on.date().isoformat())
    assert code in ask.text
    assert sorted(await statuses(svc, code)) == ["booked"] * 4
    page = await carl.submit(
        f"{DAY}/no-shows", {"date": on.date().isoformat(), "second_doses": "keep"}
    )
    assert notice(page.text).startswith("2 als nicht erschienen")
    assert sorted(await statuses(svc, code)) == ["booked", "booked", "no_show", "no_show"]


async def test_an_admin_sees_every_centre_and_an_agent_none(
    client: Client,
    svc: Services,
) -> None:
    await add_accounts(svc)
    admin = Browser(client)
    await admin.log_in(Role.admin)
    page = await admin.open("/centre")
    assert (
        page.status_code == 200
        and page.text.count('class="button button--secondary centre-pick"') > 1
    )
    assert (await admin.open("/centre/2")).status_code == 200
    assert (await admin.open("/centre/999")).status_code == 404
    agent = Browser(client)
    await agent.log_in(Role.agent)
    assert (await agent.get("/centre")).status_code == 403


async def test_an_admin_at_one_centre_s_door_cannot_check_in_another_s_booking(
    client: Client, svc: Services, clock: FixedClock, get_token: GetToken
) -> None:
    await add_accounts(svc)
    booking = await couple(client, get_token, 98)
    clock.set(first_day(booking) - timedelta(minutes=30))
    admin = Browser(client)
    await admin.log_in(Role.admin)
    await admin.open("/centre/2")
    page = await admin.submit("/centre/2/checkin", {"code": booking["code"]})
    assert "anderes Impfzentrum" in refusal(page.text)
    assert await statuses(svc, booking["code"]) == ["booked"] * 4
    page = await admin.submit(f"{DAY}/checkin", {"code": booking["code"]})
    assert notice(page.text).startswith("Eingecheckt")
