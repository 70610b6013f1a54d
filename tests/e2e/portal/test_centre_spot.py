"""The second dose on the spot in a real browser against `kontingent serve --demo`: a
centre's staff member logs in and books a second dose for a person who brings a first dose
given elsewhere, with the keyboard only (typing, Tab, Enter; never a click): a landline is
refused with the typed data kept, the mobile number books, and the slip shows the code,
the time, the centre and the QR code, with its print button. Every page passes axe-core at
desktop and phone width; screenshots go to docs/screenshots/centre/ (`spot-*`)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from kontingent.clock import BERLIN
from tests.e2e.browser import (
    SCREENSHOTS,
    assert_accessible,
    check_widths,
    demo_password,
    focused,
    keys,
)
from tests.e2e.demo import DemoServer

pytestmark = pytest.mark.slow
SHOTS = SCREENSHOTS / "centre"
PAGE = "/centre/1/second-dose"  # demo-centre is bound to centre 1


def promises(page: Page) -> None:
    """The slip's print button is the console's one script (centre/spot_pages.py); the rest
    of the portal's promise (assert_accessible) holds without it."""
    scripts = page.evaluate("() => [...document.scripts].map(s => s.getAttribute('src'))")
    assert scripts in ([], ["/static/centre-print.js"]), scripts
    page.evaluate("() => document.querySelectorAll('script').forEach(s => s.remove())")
    assert_accessible(page)


def check(page: Page, axe_source: str, name: str) -> None:
    """axe at desktop and phone width (0 violations), a PNG of each; desktop width after."""
    check_widths(page, axe_source, SHOTS, f"spot-{name}", promises=promises)


def test_a_second_dose_booked_on_the_spot_with_the_keyboard_only(
    axe_page: Page, server: DemoServer, axe_source: str
) -> None:
    page = axe_page
    page.goto(PAGE)
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/centre/1/second-dose$"))
    keys(page, "=demo-centre", "Tab", "=" + demo_password(server, "demo-centre"), "Enter")
    expect(page.get_by_role("heading", name="Zweitimpfung vor Ort")).to_be_visible()
    expect(page.locator("input#code")).to_be_focused()  # the cursor waits for the code
    check(page, axe_source, "01-form")

    first_dose = (datetime.now(BERLIN).date() - timedelta(days=3)).strftime("%d.%m.%Y")
    keys(page, "Tab", "Tab")  # past the code's button to the person's first field
    assert focused(page) == "input#first_name"
    keys(page, "=Gerda", "Tab", "=Lindner", "Tab", "=03.02.1940", "Tab", "=0521 123456")
    keys(page, "Tab", "Tab", "=" + first_dose, "Tab")
    assert focused(page) == "select#vaccine"
    keys(page, "B", "Tab")  # BioNTech, by its first letter
    assert focused(page) == "button:Termin für die zweite Impfung buchen"
    keys(page, "Enter")
    expect(page.locator(".error-summary")).to_contain_text("Handynummer")
    assert focused(page) == "div#error-summary"
    expect(page.get_by_label("Vorname")).to_have_value("Gerda")
    expect(page.locator("select#vaccine")).to_have_value("BNT")
    check(page, axe_source, "02-landline-refused")

    page.get_by_label("Handynummer (für die SMS)").focus()  # the summary's link leads here
    keys(page, "Control+a", "=0170 5556667", "Enter")
    expect(page.get_by_role("heading", name="Ihr Termin für die zweite Impfung")).to_be_visible()
    code = page.locator(".spot-slip-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", code), code
    expect(page.locator(".spot-slip")).to_contain_text("Zweite Impfung für Gerda Lindner")
    expect(page.locator(".spot-slip svg.qr-code")).to_be_visible()
    expect(page.get_by_role("button", name="Zettel drucken")).to_be_visible()  # script ran
    check(page, axe_source, "03-slip")
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Zettel drucken")).to_be_hidden()
    page.screenshot(path=str(SHOTS / "spot-04-print.png"), full_page=True)
    page.emulate_media(media="screen")
    page.get_by_role("button", name="Zettel drucken").focus()
    keys(page, "Tab")
    assert focused(page) == "a:Nächste Person"
    keys(page, "Enter")
    expect(page.get_by_role("heading", name="Zweitimpfung vor Ort")).to_be_visible()
