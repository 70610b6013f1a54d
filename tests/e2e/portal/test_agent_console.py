"""The hotline console in a real browser against `kontingent serve --demo`: an agent logs in
and books a couple with the keyboard only (typing, Tab, Shift+Tab, Enter, Space; never a
click), finds the booking by its code, rebooks it and cancels it, each through its
confirmation step. Every
console page passes axe-core at desktop and phone width; screenshots of each (PNG) go to
docs/screenshots/agent/, where people look at them.

axe-core is injected into a context that bypasses the pages' CSP (the pages allow no script).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

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
SHOTS = SCREENSHOTS / "agent"


def check(page: Page, axe_source: str, name: str) -> None:
    """The portal's promises, axe at desktop and phone width (0 violations), a PNG of each."""
    check_widths(page, axe_source, SHOTS, name, promises=assert_accessible)


def log_in(page: Page, server: DemoServer) -> None:
    page.goto("/agent")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/agent$"))
    assert focused(page) == "input#username"
    keys(page, "=demo-agent", "Tab", "=" + demo_password(server, "demo-agent"), "Enter")
    expect(page).to_have_url(re.compile(r"/agent$"))


def test_an_agent_books_a_couple_finds_it_by_code_and_cancels_it_with_the_keyboard_only(
    axe_page: Page, server: DemoServer, axe_source: str
) -> None:
    page = axe_page
    log_in(page, server)
    assert focused(page) == "input#code"  # the cursor is in the search field at once
    check(page, axe_source, "01-start")
    keys(page, "Shift+Tab")  # the "new booking" button just before it
    assert focused(page) == "a:Neue Buchung"
    keys(page, "Enter")
    expect(page.get_by_role("heading", name="Neue Buchung")).to_be_visible()
    assert focused(page) == "input#birth_date"
    keys(page, "=01.05.1939", "Tab", "=12.12.1938", "Tab", "=336", "Enter")
    expect(page.locator(".error-summary")).to_be_visible()
    assert focused(page) == "div#error-summary"
    check(page, axe_source, "02-new-error")
    page.get_by_label("Postleitzahl").focus()  # the summary's link leads here; Tab order too
    keys(page, "End", "=02", "Enter")
    expect(page.get_by_role("heading", name="Darf gebucht werden?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("für beide passt")
    check(page, axe_source, "03-eligibility")
    assert focused(page) == "a:Termine zeigen"
    keys(page, "Enter")
    expect(page.get_by_role("heading", name="Termine")).to_be_visible()
    expect(page.locator(".agent-offer").first).to_be_visible()
    check(page, axe_source, "04-offers")
    assert focused(page) == "a:Diesen Termin nehmen"
    keys(page, "Enter")
    expect(page.get_by_role("heading", name="Persönliche Daten")).to_be_visible()
    assert focused(page) == "input#p0-first_name"
    keys(page, "=Irmgard", "Tab", "=Keller", "Enter")  # the address is missing: refused
    expect(page.locator(".error-summary")).to_contain_text("Straße")
    expect(page.get_by_label("Vorname").first).to_have_value("Irmgard")
    check(page, axe_source, "05-details-error")
    page.get_by_label("Straße").first.focus()
    keys(page, "=Lindenweg", "Tab", "=7", "Tab", "Tab", "=Bielefeld", "Tab", "Tab")
    assert focused(page) == "input#p1-first_name"
    keys(page, "=Heinz", "Tab", "=Keller", "Tab")
    assert focused(page) == "input#p1-same_address"  # ticked: the address fields are hidden
    keys(page, "Tab", "Tab", "=0521 123456")
    assert focused(page) == "input#phone"
    check(page, axe_source, "06-details")
    keys(page, "Enter")
    expect(page.locator(".notice")).to_contain_text("Gebucht")
    code = page.locator(".agent-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", code), code
    expect(page.locator(".agent-spell")).to_contain_text(f"{code[0]} wie ")
    expect(page.locator("main")).to_contain_text("Heinz Keller")
    check(page, axe_source, "07-booked")
    assert focused(page) == "a:Nächster Anruf"
    keys(page, "Enter")
    expect(page.get_by_role("heading", name="Anrufer suchen")).to_be_visible()
    assert focused(page) == "input#code"
    keys(page, "=" + code.replace("-", " ").lower(), "Enter")
    expect(page.locator(".agent-code")).to_have_text(code)
    keys(page, "Shift+Tab", "Shift+Tab")
    assert focused(page) == "a:Umbuchen"
    keys(page, "Enter")
    expect(page.get_by_role("heading", name=f"Neue Termine für Buchung {code}")).to_be_visible()
    check(page, axe_source, "08-rebook-offers")
    assert focused(page) == "a:Diesen Termin nehmen"  # the first offer that is not the booking
    keys(page, "Enter")
    expect(page.get_by_role("heading", name="Wirklich umbuchen?")).to_be_visible()
    check(page, axe_source, "09-rebook-confirm")
    assert focused(page) == "button:Ja, umbuchen"
    keys(page, "Enter")
    expect(page.locator(".notice")).to_contain_text("Umgebucht")
    keys(page, "Shift+Tab")
    assert focused(page) == "a:Stornieren"
    keys(page, "Enter")
    expect(page.get_by_role("heading", name="Wirklich stornieren?")).to_be_visible()
    check(page, axe_source, "10-cancel-confirm")
    assert focused(page) == "button:Ja, stornieren"
    keys(page, "Enter")
    expect(page.locator(".notice")).to_contain_text("storniert")
    expect(page.locator(".status--cancelled")).to_be_visible()
    check(page, axe_source, "11-cancelled")


def test_the_search_results_and_the_english_pages(
    axe_page: Page, server: DemoServer, axe_source: str
) -> None:
    page = axe_page
    log_in(page, server)
    page.locator("#last_name").focus()
    keys(page, "=Niemand", "Tab", "=01.01.1930", "Enter")
    expect(page.get_by_role("heading", name="Gefundene Buchungen")).to_be_visible()
    check(page, axe_source, "12-found-none")
    page.goto("/agent/new?lang=en")
    expect(page.get_by_role("heading", name="New booking")).to_be_visible()
    check(page, axe_source, "13-new-en")
