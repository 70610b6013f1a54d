"""The admin's settings pages in a real browser against `kontingent serve --demo`: an admin
logs in, moves a cohort's opening minute (a wrong age first, refused with the field named),
switches the waiting room on for an opening, and adds a vaccine (a wrong interval first,
refused with the field named), by keyboard where it matters (Enter on links and buttons,
Space and arrows on radio buttons, typing and Tab in the add form). Every page passes
axe-core at 1280 and 375 px; screenshots go to docs/screenshots/admin/ (`rules-*`)."""

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
SHOTS = SCREENSHOTS / "admin"


def check(page: Page, axe_source: str, name: str) -> None:
    """The portal's promises, axe at desktop and phone width (0 violations), a PNG of each."""
    check_widths(page, axe_source, SHOTS, f"rules-{name}", promises=assert_accessible)


def test_an_admin_moves_a_cohorts_opening_and_sets_the_waiting_room(
    axe_page: Page, server: DemoServer, axe_source: str
) -> None:
    page = axe_page
    page.goto("/admin/cohorts")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/admin/cohorts$"))
    keys(page, "=demo-admin", "Tab", "=" + demo_password(server, "demo-admin"), "Enter")
    expect(page.get_by_role("heading", name="Impfgruppen")).to_be_visible()
    check(page, axe_source, "01-cohorts")
    page.get_by_role("link", name="70 bis 79 Jahre").focus()
    keys(page, "Enter")
    expect(page.get_by_role("heading", name="Impfgruppe „70 bis 79 Jahre“")).to_be_visible()
    check(page, axe_source, "02-cohort")
    page.get_by_label("Niedrigstes Alter").fill("85")  # above the highest: refused
    page.get_by_label("Öffnet am (Ortszeit)").fill("2030-04-06T08:00")
    page.get_by_role("button", name="Speichern").focus()
    keys(page, "Enter")
    expect(page.locator(".error-summary")).to_contain_text("nicht unter dem niedrigsten Alter")
    assert focused(page) == "div#error-summary"
    expect(page.get_by_label("Niedrigstes Alter")).to_have_value("85")  # as typed
    check(page, axe_source, "03-cohort-error")
    page.get_by_label("Niedrigstes Alter").fill("70")
    keys(page, "Enter")
    expect(page.locator(".notice")).to_contain_text("Gespeichert")
    expect(page.get_by_label("Öffnet am (Ortszeit)")).to_have_value("2030-04-06T08:00")
    check(page, axe_source, "04-cohort-saved")

    page.goto("/admin/campaign")
    expect(page.get_by_role("heading", name="Warteraum")).to_be_visible()
    expect(page.get_by_text("Der Warteraum ist nicht aktiv")).to_be_visible()
    check(page, axe_source, "05-campaign")
    page.get_by_label("Geplant", exact=False).focus()
    keys(page, "Space")
    page.get_by_label("Öffnungszeit (Ortszeit)").fill("2030-04-06T08:00")
    page.get_by_label("Einlässe pro Sekunde").fill("2,5")
    page.get_by_role("button", name="Warteraum speichern").focus()
    keys(page, "Enter")
    expect(page.locator(".notice")).to_contain_text("Gespeichert")
    expect(page.get_by_text("Der Warteraum ist aktiv")).to_be_visible()
    expect(page.get_by_label("Einlässe pro Sekunde")).to_have_value("2,5")
    check(page, axe_source, "06-campaign-saved")

    page.goto("/admin/vaccines")
    check(page, axe_source, "07-vaccines")
    page.get_by_role("link", name="BioNTech/Comirnaty").focus()
    keys(page, "Enter")
    expect(page.get_by_text("Bestehende Buchungen behalten ihre Termine")).to_be_visible()
    check(page, axe_source, "08-vaccine")

    page.goto("/admin/vaccines")
    page.get_by_role("link", name="Impfstoff hinzufügen").focus()
    keys(page, "Enter")
    expect(page).to_have_url(re.compile(r"/admin/vaccines#add$"))
    page.get_by_label("Kürzel").focus()
    keys(page, "=NVX", "Tab", "=Novavax/Nuvaxovid", "Tab")
    assert focused(page) == "input#doses"  # no number of doses chosen yet
    keys(page, "ArrowDown")  # moves to "2 Dosen" and chooses it
    assert focused(page) == "input#doses-2"
    keys(page, "Tab", "Control+a", "=21", "Tab", "=21", "Tab")  # the longest stays at 0
    assert focused(page) == "input#interval_max_days"
    keys(page, "Tab", "=18", "Enter")
    expect(page.locator(".error-summary")).to_contain_text("mindestens so viele wie der kürzeste")
    assert focused(page) == "div#error-summary"
    expect(page.get_by_label("Kürzel")).to_have_value("NVX")  # as typed
    check(page, axe_source, "09-vaccine-add-error")
    page.get_by_label("Längster Abstand (Tage)").focus()
    keys(page, "Control+a", "=42", "Enter")
    expect(page.locator(".notice")).to_contain_text("Der Impfstoff ist angelegt")
    expect(page.get_by_role("link", name="Novavax/Nuvaxovid")).to_be_visible()
    check(page, axe_source, "10-vaccine-added")
    page.goto("/admin/cohorts/new")  # the new vaccine can be given to a cohort at once
    expect(page.get_by_label("Novavax/Nuvaxovid")).to_be_visible()
