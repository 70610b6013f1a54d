"""The admin dashboard and the public availability page in a real browser against
`kontingent serve --demo`: the dashboard shows a booking made meanwhile over the API without
being reloaded (its script swaps the live part in), and both pages pass axe-core at 1280
and 375 px. Screenshots go to docs/screenshots/admin/ (dash-*) and docs/screenshots/portal/
(availability-*).

axe-core is injected into a context that bypasses the pages' CSP.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import SCREENSHOTS, check_widths, demo_password, open_page
from tests.e2e.demo import DemoServer
from tests.support import person

pytestmark = pytest.mark.slow
ADMIN_SHOTS = SCREENSHOTS / "admin"
PORTAL_SHOTS = SCREENSHOTS / "portal"
CALLER = "+4917098765432"


@pytest.fixture
def admin_page(browser: Browser, server: DemoServer) -> Iterator[Page]:
    with open_page(browser, server, timeout_ms=20_000) as page:
        yield page


def check(page: Page, axe_source: str, folder: Path, name: str) -> None:
    """axe at desktop and phone width (0 violations), a picture of each (PNG for the admin
    pages, as the agent console's; JPEG for the portal's, as its other pages'); desktop
    width after."""
    check_widths(page, axe_source, folder, name, jpeg=folder == PORTAL_SHOTS)


def book_over_the_api(url: str) -> str:
    """A citizen's booking the way an app makes it: PIN by SMS (the dev mailbox), token,
    offer, booking. Its code."""
    with httpx.Client(base_url=url, timeout=20) as http:
        started = http.post("/api/v1/verifications", json={"phone": CALLER})
        assert started.status_code == 201, started.text
        pin = None
        deadline = time.monotonic() + 20
        while pin is None and time.monotonic() < deadline:  # the embedded relay delivers it
            for message in http.get("/api/v1/dev/messages", params={"to": CALLER}).json():
                found = re.search(r"\b(\d{6})\b", message["body"])
                pin = pin or (found.group(1) if found else None)
            if pin is None:
                time.sleep(0.05)  # polling with a deadline: the server's CPU goes to the relay
        assert pin, "no PIN reached the dev mailbox"
        checked = http.post(
            f"/api/v1/verifications/{started.json()['verification_id']}", json={"pin": pin}
        )
        token = checked.json()["token"]
        offers = http.get("/api/v1/centres/1/offers", params={"vaccine": "BNT", "limit": 1})
        ids = [a["slot_id"] for a in offers.json()["offers"][0]["appointments"]]
        booked = http.post(
            "/api/v1/bookings",
            json={"persons": [person(3)], "slot_ids": ids},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert booked.status_code == 201, booked.text
        return str(booked.json()["code"])


def test_the_dashboard_shows_a_new_booking_without_a_reload(
    admin_page: Page, server: DemoServer, axe_source: str
) -> None:
    page = admin_page
    page.goto("/admin/dashboard")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/admin/dashboard$"))
    page.get_by_label("Benutzername").fill("demo-admin")
    page.get_by_label("Passwort").fill(demo_password(server, "demo-admin"))
    page.get_by_role("button", name="Anmelden").click()
    expect(page.get_by_role("heading", name="Live-Übersicht")).to_be_visible()
    web = page.locator('[data-figure="hour-web"]')
    before = int(web.inner_text())
    page.evaluate("() => { window.notReloaded = true; }")
    check(page, axe_source, ADMIN_SHOTS, "dash-01-before")

    book_over_the_api(server.url)
    expect(web).to_have_text(str(before + 1), timeout=30_000)
    assert page.evaluate("() => window.notReloaded === true")  # swapped in, not reloaded
    check(page, axe_source, ADMIN_SHOTS, "dash-02-after-booking")
    page.goto("/admin/stats")
    expect(page.get_by_role("heading", name="Statistik", exact=True)).to_be_visible()
    check(page, axe_source, ADMIN_SHOTS, "dash-03-stats")


def test_the_public_availability_page(admin_page: Page, axe_source: str) -> None:
    page = admin_page
    page.goto("/")
    page.get_by_role("link", name="Freie Termine").click()
    expect(page.get_by_role("heading", name="Freie Impftermine")).to_be_visible()
    assert page.locator("script").count() == 0
    page.locator("summary").first.click()  # a centre opened: its table is in the picture
    check(page, axe_source, PORTAL_SHOTS, "availability-de")
    page.goto("/availability?lang=en")
    expect(page.get_by_role("heading", name="Free vaccination appointments")).to_be_visible()
    check(page, axe_source, PORTAL_SHOTS, "availability-en")
