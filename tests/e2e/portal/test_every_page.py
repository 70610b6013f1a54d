"""Every portal page in a real browser: axe-core finds no violation at desktop and at phone
width, each page is saved as a screenshot at both widths (docs/screenshots/portal/), and the
back button after an error round and after a booking never meets a form resubmission.

One browser and one page walk the whole portal, error rounds included, so the walk stays
fast. axe-core is injected into each page (the portal's CSP allows no script, so this
context bypasses it) and removed again before the next check.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import assert_accessible, check_widths
from tests.e2e.demo import DemoServer
from tests.e2e.portal.journey import fill_person, read_pin, verify_phone

pytestmark = pytest.mark.slow

# Names of their own: one active booking per person, and the journey's tests share the server.
ERIKA = {"Vorname": "Rosa", "Nachname": "Lindner", "Geburtsdatum": "01.05.1939"}
ADDRESS = {
    "Straße": "Hauptstraße",
    "Hausnummer": "12a",
    "Postleitzahl": "33602",
    "Ort": "Bielefeld",
}


def check(page: Page, axe_source: str, screenshots: Path, name: str) -> None:
    """The portal's promises, axe at both widths (0 violations), a JPEG of each."""
    check_widths(page, axe_source, screenshots, name, jpeg=True, promises=assert_accessible)


def focused_id(page: Page) -> str:
    return str(page.evaluate("document.activeElement && document.activeElement.id"))


def test_every_portal_page_has_no_axe_violation_at_desktop_and_phone_width(
    axe_page: Page, server: DemoServer, axe_source: str, screenshots: Path
) -> None:
    page = axe_page

    def walk(name: str) -> None:
        check(page, axe_source, screenshots, name)

    page.goto("/")
    walk("01-start")
    page.goto("/?lang=en")
    walk("01-start-en")
    page.goto("/eligibility?lang=de")
    walk("02-eligibility")
    page.get_by_role("button", name="Weiter").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert focused_id(page) == "error-summary"
    walk("02-eligibility-errors")
    page.get_by_label("Geburtsdatum").fill("01.05.1939")
    page.get_by_label("Postleitzahl").fill("33602")
    page.get_by_role("button", name="Weiter").click()
    walk("03-eligibility-result")
    page.get_by_role("link", name="Weiter: Handynummer bestätigen").click()
    walk("04-phone")
    page.get_by_label("Handynummer").fill("030 1234567")
    page.get_by_role("button", name="PIN per SMS schicken").click()
    walk("04-phone-errors")
    page.get_by_label("Handynummer").fill("0170 12340101")
    page.get_by_role("button", name="PIN per SMS schicken").click()
    walk("05-pin")
    page.get_by_label("PIN", exact=True).fill("12a456")
    page.get_by_role("button", name="PIN bestätigen").click()
    walk("05-pin-errors")
    page.get_by_label("PIN", exact=True).fill(read_pin(page, "+4917012340101"))
    page.get_by_role("button", name="PIN bestätigen").click()
    walk("06-choose")
    page.locator(".week-paging").get_by_role("link", name="Nächste Woche").click()
    walk("06-choose-week-next")
    page.locator(".week-days a").nth(2).click()
    expect(page.locator(".week-days [aria-current=true]")).to_have_count(1)
    walk("06-choose-week-day")
    page.locator(".part-list a").nth(1).click()
    expect(page.locator(".part-list [aria-current=true]")).to_have_count(1)
    walk("06-choose-week-part")
    page.goto("/choose")

    page.get_by_label("Für zwei Personen buchen").check()
    page.get_by_role("button", name="Passende Termine zeigen").click()
    walk("06-choose-two-second-person")
    page.get_by_label("Geburtsdatum der zweiten Person").fill("01.05.1960")
    page.get_by_role("button", name="Termine für zwei zeigen").click()
    expect(page.locator("#couple-note")).to_contain_text("Für Sie beide passt")
    walk("06-choose-two-common-vaccine")
    page.locator(".offer").first.get_by_role("button").click()
    walk("07-details-two")
    fill_person(page, 0, ERIKA | ADDRESS)
    page.get_by_role("button", name="Verbindlich buchen").click()  # person 2 left empty
    assert focused_id(page) == "error-summary"
    walk("07-details-errors")
    fill_person(page, 1, {"Vorname": "Karl", "Nachname": "Lindner"})
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.locator("h1")).to_have_text("Ihre Termine sind gebucht")
    walk("08-confirmation")
    code = page.locator(".booking-code").inner_text()

    page.goto("/manage")
    walk("09-manage")
    page.get_by_role("button", name="Buchung anzeigen").click()
    walk("09-manage-errors")
    page.get_by_label("Buchungscode").fill(code)
    page.get_by_label("Geburtsdatum").fill("01.05.1939")
    page.get_by_role("button", name="Buchung anzeigen").click()
    walk("10-manage-booking")
    page.get_by_role("link", name="Andere Termine wählen").click()
    walk("11-rebook")
    page.goto(f"/manage/{code}/cancel")
    walk("12-cancel-confirm")

    verify_phone(page, screenshots, "+4917012340102", "walk")
    page.goto("/waitlist")
    walk("13-waitlist")
    page.get_by_role("button", name="Eintragen").click()
    walk("13-waitlist-done")
    page.goto("/choose")
    key = page.locator(".offer").first.locator("[name=offer]").get_attribute("value") or ""
    page.locator(".offer").first.get_by_role("button").click()
    fill_person(page, 0, {**ERIKA, "Nachname": "Keller"} | ADDRESS)
    with sqlite3.connect(server.database, timeout=10) as conn:  # someone else was quicker
        conn.execute(
            "UPDATE slots SET booked = capacity, phone_reserved = 0 WHERE id = ?",
            (int(key.split("-")[0]),),
        )
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.locator(".notice")).to_contain_text("gerade von jemand anderem gebucht")
    walk("14-taken-fresh-offers")

    for path, name in [
        ("/impressum", "15-impressum"),
        ("/datenschutz", "16-privacy"),
        ("/dev/mailbox", "17-dev-mailbox"),
        ("/nirgendwo", "18-not-found"),
    ]:
        page.goto(path)
        walk(name)


def test_back_after_an_error_round_and_after_a_booking_never_resubmits(
    page: Page, screenshots: Path
) -> None:
    verify_phone(page, screenshots, "+4917012340103", "back")
    page.locator(".offer").first.get_by_role("button").click()
    details_url = page.url
    fill_person(page, 0, {**ERIKA, "Nachname": "Zurück"})  # the address left out
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.locator(".error-summary")).to_contain_text("Straße fehlt")
    assert page.url == details_url  # the POST answered 303: this entry is a GET
    assert focused_id(page) == "error-summary"

    page.go_back()  # the persons form as first shown: a GET, no resubmission
    expect(page.locator("h1")).to_have_text("Ihre Angaben")
    expect(page.locator(".error-summary")).to_have_count(0)
    page.go_forward()  # and the error round's page again: a GET as well
    expect(page.locator("h1")).to_have_text("Ihre Angaben")
    expect(page.locator("fieldset").first.get_by_label("Nachname")).to_have_value("Zurück")

    fill_person(page, 0, ADDRESS)
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.locator("h1")).to_have_text("Ihre Termine sind gebucht")
    code = page.locator(".booking-code").inner_text()
    page.go_back()  # the persons form's entry now leads to the booking, not the phone step
    expect(page.locator("h1")).to_have_text("Ihre Termine sind gebucht")
    expect(page.locator(".booking-code")).to_have_text(code)
    page.go_back()  # and so does the entry before it (the form as first shown)
    expect(page.locator("h1")).to_have_text("Ihre Termine sind gebucht")
