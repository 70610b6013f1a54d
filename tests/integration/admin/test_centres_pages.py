"""The centre pages as a browser without JavaScript uses them: the console's frame, a
change checked (slots added, removed, kept because booked) before it is saved, a form with
mistakes coming back with a message at each field, and a closure that lists the day's
bookings before it cancels them. On SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kontingent.app import Services
from kontingent.schema import bookings
from kontingent.staff.model import Role
from tests.integration.admin.conftest import FIRST_DAY
from tests.integration.admin.test_centres_slots import at, book_at
from tests.integration.agent.conftest import Browser
from tests.integration.staff.conftest import add_accounts

Client = AsyncTestClient[Litestar]
DAY = FIRST_DAY + timedelta(days=2)


@pytest.fixture
async def admin(client: Client, services: Services) -> Browser:
    await add_accounts(services)
    browser = Browser(client)
    await browser.log_in(Role.admin)
    return browser


def form_values(html: str) -> dict[str, str]:
    """The values a browser would send from the centre form on the page (ticked boxes only)."""
    values = {}
    for tag in re.findall(r"<input [^>]+>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or name.group(1) in ("_csrf_token", "day", "reason"):
            continue
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        values[name.group(1)] = value.group(1) if value else ""
    return values


async def test_the_landing_page_links_every_part_of_the_console(admin: Browser) -> None:
    page = await admin.open("/admin")
    assert page.status_code == 200
    for path in ("/admin/dashboard", "/admin/releases", "/admin/centres", "/admin/vaccines",
                 "/admin/cohorts", "/admin/campaign", "/admin/stats", "/admin/audit"):  # fmt: skip
        assert f'href="{path}"' in page.text, path
    listed = await admin.open("/admin/centres")
    assert 'aria-current="page"' in listed.text and "Impfzentrum Bielefeld" in listed.text


async def test_a_change_is_checked_then_saved(
    admin: Browser, services: Services, centre: int
) -> None:
    await book_at(services, centre, at(1, 11, 40), 0)
    edit = await admin.open(f"/admin/centres/{centre}")
    values = form_values(edit.text)
    values.update(lanes="4", closes_monday="10:00", closes_tuesday="10:00",
                  closes_wednesday="10:00")  # fmt: skip
    check = await admin.open(f"/admin/centres/{centre}/check", **values)
    assert check.status_code == 200, check.text[:500]
    assert "1 Termin bleibt, weil er gebucht ist." in check.text
    assert "6 Termine entfallen" not in check.text and "17 freie Termine entfallen." in check.text
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', check.text))
    saved = await admin.submit(f"/admin/centres/{centre}", hidden)
    assert "Die Änderung ist gespeichert" in saved.text
    assert 'name="lanes" type="text" value="4"' in saved.text


async def test_mistakes_come_back_at_their_fields(admin: Browser, centre: int) -> None:
    edit = await admin.open(f"/admin/centres/{centre}")
    values = {**form_values(edit.text), "postcode": "10115", "opens_friday": "9 Uhr",
              "closes_monday": "07:00"}  # fmt: skip
    page = await admin.open(f"/admin/centres/{centre}/check", **values)
    assert 'href="#postcode"' in page.text and "10115 liegt nicht in Westfalen-Lippe" in page.text
    assert 'id="opens_friday-error"' in page.text and "nicht „9 Uhr“" in page.text
    assert 'id="opens_monday-error"' in page.text
    stray = await admin.post(f"/admin/centres/{centre}", {})
    assert stray.status_code == 303
    back = await admin.open(stray.headers["location"])
    assert "unvollständig" in back.text


async def test_a_closure_lists_the_bookings_then_cancels_them(
    admin: Browser, services: Services, centre: int
) -> None:
    code = await book_at(services, centre, at(2, 9), 0)
    await admin.open(f"/admin/centres/{centre}")
    ask = await admin.open(f"/admin/centres/{centre}/closure", day=DAY.strftime("%d.%m.%Y"),
                           reason="Stromausfall")  # fmt: skip
    assert code in ask.text and "1 Buchung wird abgesagt" in ask.text
    done = await admin.submit(f"/admin/centres/{centre}/closures",
                              {"day": DAY.isoformat(), "reason": "Stromausfall"})  # fmt: skip
    assert "Der Tag ist geschlossen" in done.text and "Stromausfall" in done.text
    async with services.db.read() as conn:
        status = (
            await conn.execute(select(bookings.c.status).where(bookings.c.code == code))
        ).scalar_one()
    assert status == "cancelled"
    reopened = await admin.submit(
        f"/admin/centres/{centre}/closures/open", {"day": DAY.isoformat()}
    )
    assert "wieder geöffnet" in reopened.text and "Keine geschlossenen Tage." in reopened.text
    past = await admin.open(f"/admin/centres/{centre}/closure", day="01.01.2026")
    assert "Dieser Tag ist vorbei" in past.text
