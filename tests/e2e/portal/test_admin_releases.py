"""The release pages in a real browser against `kontingent serve --demo`: an admin schedules
a contingent release two minutes ahead (keyboard on the form, the confirmation's numbers
checked), sees it scheduled, then the test drives a scheduler of its own on the server's
database with a clock set to that minute, and the admin sees the release executed on its
page and in the history. Every page passes axe-core at 1280 and 375 px; screenshots go to
docs/screenshots/admin/releases-*.png.
"""

from __future__ import annotations

import asyncio
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from kontingent.app import build_services
from kontingent.clock import BERLIN, FixedClock
from kontingent.config import Settings
from kontingent.inventory.closures import is_public_holiday
from tests.e2e.browser import SCREENSHOTS, assert_accessible, check_widths, demo_password
from tests.e2e.demo import DemoServer

pytestmark = pytest.mark.slow
SHOTS = SCREENSHOTS / "admin"
# The demo leaves Johnson & Johnson unreleased after its eight seeded weeks.
FIRST_FREE_DAY = 8 * 7 + 4


def check(page: Page, axe_source: str, name: str, *, scripted: bool = False) -> None:
    """axe at desktop and phone width (0 violations), a PNG of each; desktop width after.
    `scripted`: the dashboard, whose own script refreshes it (the portal's promises but "no
    script" are checked by its own test, tests/e2e/portal/test_admin_dashboard.py)."""
    promises = None if scripted else assert_accessible
    check_widths(page, axe_source, SHOTS, f"releases-{name}", promises=promises)


def run_scheduler(database: Path, at: datetime) -> int:
    """One pass of the scheduler (as `kontingent worker` runs it) at the minute `at`."""
    from kontingent.jobs.service import scheduler_for

    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{database}", demo=True, embedded_relay=False
    )

    async def once() -> int:
        services = build_services(settings, FixedClock(at))
        try:
            return (await scheduler_for(services).run_due()).get("releases_executed", 0)
        finally:
            await services.db.dispose()

    # In a thread of its own: Playwright's sync API keeps an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, once()).result()


def test_an_admin_schedules_a_release_and_sees_it_executed_at_its_minute(
    axe_page: Page, server: DemoServer, axe_source: str
) -> None:
    page = axe_page
    page.goto("/admin/releases")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/admin/releases$"))
    page.keyboard.type("demo-admin")
    page.keyboard.press("Tab")
    page.keyboard.type(demo_password(server, "demo-admin"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Kontingente freigeben")).to_be_visible()
    check(page, axe_source, "01-form")

    now = datetime.now(BERLIN)
    at = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
    first = now.date() + timedelta(days=FIRST_FREE_DAY)
    page.get_by_label("Johnson & Johnson/Jcovden").check()
    page.get_by_label("Nur diese Impfzentren:").check()
    page.get_by_label("Impfzentrum Bielefeld", exact=True).press(
        "Space"
    )  # checked with the keyboard
    page.get_by_label("Erster Tag").fill(f"{first:%d.%m.%Y}")
    page.get_by_label("Letzter Tag").fill(f"{first + timedelta(days=1):%d.%m.%Y}")
    page.get_by_label("Zu einer bestimmten Minute").check()
    page.get_by_label("Tag der Freigabe").fill(f"{at:%d.%m.%Y}")
    page.get_by_label("Uhrzeit der Freigabe").fill(f"{at:%H:%M}")
    page.keyboard.press("Enter")  # submits the form from its last field
    expect(page.get_by_role("heading", name="Freigabe prüfen")).to_be_visible()
    table = page.get_by_role("table")
    expect(table).to_contain_text("Impfzentrum Bielefeld")
    open_days = sum(not is_public_holiday(first + timedelta(days=i)) for i in range(2))
    seats = 36 * 44 * open_days  # 08:00 to 20:00 in 20 minutes, 11 lanes of 4 per slot
    expect(table.locator("tfoot")).to_contain_text(f"{36 * open_days}{seats:,}".replace(",", "."))
    check(page, axe_source, "02-confirm")

    go = page.get_by_role("button", name=re.compile("Freigabe für .* planen"))
    go.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("Die Freigabe ist geplant")
    expect(page.locator(".release-status")).to_have_text("Stand: geplant")
    check(page, axe_source, "03-scheduled")
    release_url = page.url

    assert run_scheduler(server.database, at - timedelta(seconds=1)) == 0
    assert run_scheduler(server.database, at) in (0, 1)  # 0: the server's own got there first
    page.goto(release_url)
    expect(page.locator(".release-status")).to_have_text("Stand: freigegeben")
    expect(page.locator("main")).to_contain_text("Ausgeführt")
    check(page, axe_source, "04-executed")

    page.goto("/admin/dashboard")  # and it landed on the dashboard: released today
    release_id = release_url.split("?")[0].rsplit("/", 1)[1]
    landed = page.locator(f'[data-release="{release_id}"]')
    expect(landed).to_have_attribute("data-status", "done")
    expect(landed).to_contain_text("freigegeben")
    check(page, axe_source, "04-dashboard", scripted=True)

    page.goto("/admin/releases")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("freigegeben")
    expect(row).to_contain_text("demo-admin")
    check(page, axe_source, "05-history")

    page.get_by_label("Johnson & Johnson/Jcovden").check()  # the same days again: refused
    page.get_by_label("Erster Tag").fill(f"{first:%d.%m.%Y}")
    page.get_by_label("Letzter Tag").fill(f"{first:%d.%m.%Y}")
    page.get_by_role("button", name="Weiter: prüfen").press("Enter")
    expect(page.locator(".error-summary")).to_contain_text("schon freigegeben")
    check(page, axe_source, "06-refused")
