"""Issue 14 item 12: on a phone every appointment date stands on one line of its own under its
label, in German and English; on a wide screen the long date does. Screenshots at both widths
are left in tests/e2e/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import assert_accessible, open_page, shot
from tests.e2e.demo import DemoServer
from tests.e2e.portal.journey import verify_phone

pytestmark = pytest.mark.slow
PHONE = {"width": 360, "height": 780}
# Per dose line: [label, long date, short date] as [visible, number of line boxes].
LAYOUT = """() => [...document.querySelectorAll('.doses li')].map(li =>
  ['.dose-label', '.dose-when', '.dose-when-short'].map(s => {
    const e = li.querySelector(s);
    return [getComputedStyle(e).display !== 'none', e.getClientRects().length];
  }))"""


def _lines(page: Page) -> list[list[list[object]]]:
    lines: list[list[list[object]]] = page.evaluate(LAYOUT)
    assert len(lines) >= 2
    return lines


def test_each_date_takes_one_line_on_a_phone_and_the_long_date_on_a_wide_screen(
    browser: Browser, server: DemoServer, screenshots: Path
) -> None:
    with open_page(browser, server, viewport=PHONE, bypass_csp=False) as page:
        verify_phone(page, screenshots, "+4917012340077", "phone")
        assert_accessible(page)
        for _label, long_date, short_date in _lines(page):
            assert long_date == [False, 0]  # hidden, so not read out twice either
            assert short_date == [True, 1]  # one line box: the date does not wrap
        shot(page, screenshots, "phone-choose-de")
        page.goto(f"{page.url}&lang=en" if "?" in page.url else f"{page.url}?lang=en")
        assert " at " in page.locator(".dose-when-short").first.inner_text()  # Mon 12 Jan 2026 at …
        for _label, _long, short_date in _lines(page):
            assert short_date == [True, 1]
        shot(page, screenshots, "phone-choose-en")
        page.set_viewport_size({"width": 1000, "height": 900})
        for _label, long_date, short_date in _lines(page):
            assert long_date == [True, 1] and short_date == [False, 0]
        shot(page, screenshots, "desktop-choose-en")
