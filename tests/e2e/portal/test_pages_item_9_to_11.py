"""The pages of issue 14's items 9 to 11 in a real browser, checked with axe-core at desktop
and phone width: the start page's groups, the eligibility result's vaccine advice, the PIN
page after a wrong PIN (tries left), and the queue page with the room off.

axe-core is injected into a context that bypasses the portal's CSP (which allows no script).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import axe_violations, open_page, shot
from tests.e2e.demo import DemoServer
from tests.e2e.portal.journey import read_pin

pytestmark = pytest.mark.slow
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}


@pytest.mark.parametrize("width", list(WIDTHS))
def test_start_result_pin_and_queue_pages_have_no_axe_violations(
    browser: Browser, server: DemoServer, screenshots: Path, axe_source: str, width: str
) -> None:
    w, h = WIDTHS[width]
    with open_page(browser, server, viewport={"width": w, "height": h}) as page:
        page.goto("/")
        expect(page.locator("main")).to_contain_text("60 bis 79 Jahre")
        _checked(page, screenshots, axe_source, f"items-9-11-{width}-01-start")
        page.goto("/eligibility")
        page.get_by_label("Geburtsdatum").fill("01.05.1939")
        page.get_by_label("Postleitzahl").fill("33602")
        page.get_by_role("button").filter(has_text="Weiter").click()
        expect(page.locator("h2", has_text="Welcher Impfstoff?")).to_be_visible()
        _checked(page, screenshots, axe_source, f"items-9-11-{width}-02-advice")
        phone = f"+4917099{1 if width == 'desktop' else 2:05d}"
        page.goto("/phone")
        page.get_by_label("Handynummer").fill(phone)
        page.get_by_role("button", name="PIN per SMS schicken").click()
        right = read_pin(page, phone)
        page.get_by_label("PIN", exact=True).fill(f"{(int(right) + 1) % 1_000_000:06d}")
        page.get_by_role("button", name="PIN bestätigen").click()
        expect(page.locator("main")).to_contain_text("Sie haben noch 4 Versuche")
        _checked(page, screenshots, axe_source, f"items-9-11-{width}-03-wrong-pin")
        page.goto("/warteschlange")
        expect(page.locator("h1")).to_have_text("Im Moment müssen Sie nicht warten")
        _checked(page, screenshots, axe_source, f"items-9-11-{width}-04-queue-off")


def _checked(page: Page, screenshots: Path, axe_source: str, name: str) -> None:
    shot(page, screenshots, name)
    assert axe_violations(page, axe_source) == [], name
