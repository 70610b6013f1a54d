"""The centre pages in a real browser against `kontingent serve --demo`: an admin logs in,
opens a centre, changes Monday's hours with the keyboard (Tab, typing, Enter), reads what the
change will do and saves it; then closes a day that has a booking, sees the booking listed,
confirms, and the booking is cancelled (its messages: tests/integration/admin). Every page
passes axe-core at 1280 and 375 px; screenshots (PNG) go to docs/screenshots/admin/ (names
starting `centres-`).

A centre far down the list is used, so the other browser tests' offers in Bielefeld stay as
they were.
"""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import SCREENSHOTS, assert_accessible, check_widths, demo_password
from tests.e2e.demo import DemoServer

pytestmark = pytest.mark.slow
SHOTS = SCREENSHOTS / "admin"
CENTRE = 20


def check(page: Page, axe_source: str, name: str) -> None:
    """The portal's promises, axe at desktop and phone width (0 violations), a PNG of each."""
    check_widths(page, axe_source, SHOTS, f"centres-{name}", promises=assert_accessible)


def booked_day(server: DemoServer) -> tuple[str, date]:
    """A booking at the centre made by the hotline over the API: its code and day."""
    with httpx.Client(base_url=server.url, timeout=30) as api:
        password = demo_password(server, "demo-agent")
        token = api.post(
            "/api/v1/auth/token", json={"username": "demo-agent", "password": password}
        )
        headers = {"Authorization": f"Bearer {token.json()['token']}"}
        offers = api.get(f"/api/v1/centres/{CENTRE}/offers", params={"vaccine": "JNJ"}).json()
        slot = offers["offers"][3]["appointments"][0]
        person = {"first_name": "Gerda", "last_name": "Schließtag", "birth_date": "1939-05-01",
                  "postcode": "33602", "city": "Bielefeld", "street": "Hauptstraße",
                  "house_number": "1", "phone": "+491701234599"}  # fmt: skip
        made = api.post("/api/v1/agent/bookings", headers=headers,
                        json={"persons": [person], "slot_ids": [slot["slot_id"]]})  # fmt: skip
        assert made.status_code == 201, made.text
        return made.json()["code"], date.fromisoformat(slot["start"][:10])


def test_an_admin_changes_hours_and_closes_a_day_with_a_booking(
    axe_page: Page, server: DemoServer, axe_source: str
) -> None:
    page = axe_page
    page.goto("/admin")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/admin$"))
    page.keyboard.type("demo-admin")
    page.keyboard.press("Tab")
    page.keyboard.type(demo_password(server, "demo-admin"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Verwaltung der Kampagne")).to_be_visible()
    check(page, axe_source, "01-admin")
    page.get_by_role("navigation", name="Verwaltung").get_by_role("link", name="Zentren").click()
    expect(page.get_by_role("heading", name="Zentren")).to_be_visible()
    check(page, axe_source, "02-list")
    page.goto(f"/admin/centres/{CENTRE}")
    check(page, axe_source, "03-edit")

    page.get_by_label("Schließt um").first.focus()  # Monday's closing time
    page.keyboard.press("Control+A")
    page.keyboard.type("16:00")
    page.keyboard.press("Enter")  # the edit form asks first what the change does
    expect(page.get_by_role("heading", name="Änderung prüfen")).to_be_visible(timeout=60_000)
    expect(page.locator(".admin-effect")).to_contain_text("freie Termine entfallen")
    check(page, axe_source, "04-check")
    page.get_by_role("button", name="Änderung speichern").focus()
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("Die Änderung ist gespeichert", timeout=60_000)
    expect(page.locator("#closes_monday")).to_have_value("16:00")

    code, day = booked_day(server)
    page.get_by_label("Tag", exact=True).fill(day.strftime("%Y-%m-%d"))
    page.get_by_label("Grund").fill("Wasserrohrbruch")
    page.get_by_role("button", name="Buchungen des Tages zeigen").click()
    expect(page.get_by_role("heading", name="Tag schließen")).to_be_visible()
    expect(page.locator("main")).to_contain_text(code)
    expect(page.locator("main")).to_contain_text("1 Buchung wird abgesagt")
    check(page, axe_source, "05-closure")
    page.get_by_role("button", name="Tag schließen und Buchungen absagen").press("Enter")
    expect(page.locator(".notice")).to_contain_text("Der Tag ist geschlossen", timeout=60_000)
    expect(page.locator("main")).to_contain_text("Wasserrohrbruch")
    check(page, axe_source, "06-closed")
    with httpx.Client(base_url=server.url, timeout=30) as api:
        found = api.get(f"/api/v1/bookings/{code}", params={"birth_date": "1939-05-01"})
        assert found.json()["status"] == "cancelled"
