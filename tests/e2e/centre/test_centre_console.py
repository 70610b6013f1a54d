"""The centre console in a real browser against `kontingent serve --demo` (its clock at 09:00
of a day with appointments ahead): the centre's staff log in and land on their centre's day;
a person is checked in by typing the code with the keyboard only (as a USB scanner types);
a wrong code is refused in large type; a second person is checked in from a photo of their
confirmation's QR code, decoded in the page by the vendored jsQR; the lane records the
vaccination and keeps the batch for the next person. Every page passes axe-core at 1280 and
375 px; screenshots go to docs/screenshots/centre/.

axe-core is injected into a context that bypasses the pages' CSP (they allow this site's
scripts only); the CSP itself is checked in tests/integration/centre/test_pages.py.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from kontingent.checkin import drawing
from kontingent.checkin.model import sign_ticket
from tests.e2e.browser import (
    SCREENSHOTS,
    check_widths,
    demo_password,
    focused,
    font_size_px,
    keys,
    unlabelled_fields,
)
from tests.e2e.centre.conftest import SECRET
from tests.e2e.demo import DemoServer

pytestmark = pytest.mark.slow
SHOTS = SCREENSHOTS / "centre"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "tablet": {"width": 375, "height": 800}}


def promises(page: Page) -> None:
    """The portal's promises (tests/e2e/browser.py), but scripts: this site's own only, none
    inline."""
    assert page.locator("html").get_attribute("lang") in ("de", "en")
    assert page.locator("a.skip-link").count() == 1
    sources = page.evaluate("() => [...document.scripts].map(s => s.getAttribute('src'))")
    assert all(s and s.startswith("/static/centre/") for s in sources), sources
    assert unlabelled_fields(page) == []
    assert font_size_px(page) >= 20


def check(page: Page, axe_source: str, name: str) -> None:
    """axe at 1280 and 375 px (0 violations), a PNG of each; back to 1280 after."""
    check_widths(page, axe_source, SHOTS, name, widths=WIDTHS, promises=promises)


def book_today(server: DemoServer, last_name: str) -> str:
    """A booking at centre 1 whose first dose is today (the server's day), made by the demo
    agent through the API; its code."""
    with httpx.Client(base_url=server.url, timeout=30) as api:
        login = {"username": "demo-agent", "password": demo_password(server, "demo-agent")}
        token = api.post("/api/v1/auth/token", json=login).json()["token"]
        offers = api.get("/api/v1/centres/1/offers", params={"vaccine": "BNT", "limit": 1})
        slot_ids = [a["slot_id"] for a in offers.json()["offers"][0]["appointments"]]
        person: dict[str, Any] = {
            "first_name": "Erika", "last_name": last_name, "birth_date": "1939-05-01",
            "postcode": "33602", "city": "Bielefeld", "street": "Hauptstraße",
            "house_number": "12a", "phone": "+495211234567",
        }  # fmt: skip
        answer = api.post(
            "/api/v1/agent/bookings",
            json={"persons": [person], "slot_ids": slot_ids},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 201, answer.text
        return str(answer.json()["code"])


def log_in(page: Page, server: DemoServer) -> None:
    page.goto("/centre")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/centre$"))
    keys(page, "=demo-centre", "Tab", "=" + demo_password(server, "demo-centre"), "Enter")
    expect(page).to_have_url(re.compile(r"/centre/1$"))  # one centre: straight to its day


def test_check_in_by_typed_code_and_by_a_photo_of_the_qr_code(
    axe_page: Page, server: DemoServer, axe_source: str, tmp_path: Path, browser: Browser
) -> None:
    page = axe_page
    typed = book_today(server, "Tastatur")
    photographed = book_today(server, "Kamera")
    log_in(page, server)
    assert focused(page) == "input#code"  # the scanner's keystrokes land in the field at once
    expect(page.locator("#scan")).to_be_visible()  # the script found jsQR and showed the reader
    check(page, axe_source, "01-day")

    keys(page, "=K7QM-3XPA-9RTX", "Enter")  # no such booking
    expect(page.locator(".error-summary")).to_contain_text("Diesen Buchungscode gibt es nicht")
    check(page, axe_source, "02-refused")

    page.get_by_label("Buchungscode oder QR-Code").focus()
    keys(page, "=" + typed.lower(), "Enter")
    expect(page.locator(".notice")).to_contain_text(
        f"Eingecheckt: Erika Tastatur (Buchung {typed})"
    )
    counters = page.locator("#counters")
    expect(counters).to_contain_text("Eingecheckt, wartet")
    check(page, axe_source, "03-checked-in")

    photo = tmp_path / "ticket.png"
    photo.write_bytes(drawing.png(sign_ticket(SECRET, photographed)))
    page.set_input_files("#scan-file", str(photo))  # decoded in the page, then sent
    expect(page.locator(".notice")).to_contain_text(
        f"Eingecheckt: Erika Kamera (Buchung {photographed})"
    )

    row = page.locator(".visit", has_text="Kamera")
    row.get_by_label("Chargennummer").fill("ex1234-a")
    row.get_by_role("button", name="Geimpft").click()
    expect(page.locator(".notice")).to_contain_text("Charge EX1234-A")
    next_one = page.locator(".visit", has_text="Tastatur")
    expect(next_one.get_by_label("Chargennummer")).to_have_value("EX1234-A")  # the lane's batch
    check(page, axe_source, "04-vaccinated")

    # Under the pages' own CSP (no bypass): the console's script still runs and shows the reader.
    strict = browser.new_context(base_url=server.url, storage_state=page.context.storage_state())
    try:
        own = strict.new_page()
        own.goto("/centre/1")
        expect(own.locator("#scan")).to_be_visible()
    finally:
        strict.close()

    page.goto("/centre/1/print")
    expect(page.locator("h1")).to_contain_text("Liste für")
    check(page, axe_source, "05-print-tomorrow")
