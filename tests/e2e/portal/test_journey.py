"""The citizen's whole journey in a real browser against a real server, without JavaScript
on the pages: eligibility, PIN from the dev mailbox, choose, book for two, confirmation,
manage, cancel; and the path where the chosen slot is taken between showing and booking.

Every step leaves a screenshot in docs/screenshots/portal/ for people to look at.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.browser import assert_accessible, shot
from tests.e2e.demo import DemoServer
from tests.e2e.portal.journey import fill_person, verify_phone

pytestmark = pytest.mark.slow

PEOPLE = [
    {
        "Vorname": "Erika",
        "Nachname": "Brandt",
        "Geburtsdatum": "01.05.1939",
        "Straße": "Hauptstraße",
        "Hausnummer": "12a",
        "Postleitzahl": "33602",
        "Ort": "Bielefeld",
    },
    {
        "Vorname": "Heinz",
        "Nachname": "Brandt",
        "Geburtsdatum": "17.09.1937",
        "Straße": "Hauptstraße",
        "Hausnummer": "12a",
        "Postleitzahl": "33602",
        "Ort": "Bielefeld",
    },
]


def slot_counts(database: Path, slot_ids: list[int]) -> dict[int, int]:
    with sqlite3.connect(database, timeout=10) as conn:
        return {
            i: conn.execute("SELECT booked FROM slots WHERE id = ?", (i,)).fetchone()[0]
            for i in slot_ids
        }


def test_book_for_two_then_manage_and_cancel(
    page: Page, server: DemoServer, screenshots: Path
) -> None:
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Impftermine buchen")
    expect(page.locator("main")).to_contain_text("80 Jahre und älter")
    expect(page.locator("main")).to_contain_text("70 bis 79 Jahre")
    assert_accessible(page)
    shot(page, screenshots, "journey-01-start")
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Book vaccination appointments")
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, screenshots, "journey-01-start-en")
    page.get_by_role("link", name="Deutsch").click()

    page.get_by_role("link", name="Termin suchen").click()
    page.get_by_role("button", name="Weiter").click()  # nothing typed: both fields answer
    expect(page.locator(".error-summary")).to_contain_text("Geburtsdatum")
    expect(page.locator("#postcode-error")).to_be_visible()
    shot(page, screenshots, "journey-02-eligibility-errors")

    verify_phone(page, screenshots, "+4917012340001", "journey")
    page.get_by_label("Für zwei Personen buchen").check()
    page.get_by_role("button", name="Passende Termine zeigen").click()
    assert "persons=2" in page.url
    page.get_by_label("Geburtsdatum der zweiten Person").fill(PEOPLE[1]["Geburtsdatum"])
    page.get_by_role("button", name="Termine für zwei zeigen").click()
    assert "persons=2" in page.url
    assert_accessible(page)
    shot(page, screenshots, "journey-06-choose-two")
    first = page.locator(".offer").first
    expect(first.locator(".doses li")).to_have_count(2)  # never a first dose alone
    key = first.locator("[name=offer]").get_attribute("value") or ""
    slot_ids = sorted({int(i) for i in key.split("-")})
    assert len(key.split("-")) == 4  # two persons side by side, two doses each
    before = slot_counts(server.database, slot_ids)  # other tests share the server's slots
    first.get_by_role("button").click()

    expect(page.locator("h1")).to_have_text("Ihre Angaben")
    fill_person(page, 0, PEOPLE[0])
    expect(page.get_by_label("Gleiche Adresse wie Person 1")).to_be_checked()
    expect(page.locator("fieldset").nth(1).get_by_label("Straße")).to_be_hidden()
    fill_person(page, 1, {k: PEOPLE[1][k] for k in ("Vorname", "Nachname", "Geburtsdatum")})
    assert_accessible(page)
    shot(page, screenshots, "journey-07-details")
    page.get_by_role("button", name="Verbindlich buchen").click()

    expect(page.locator("h1")).to_have_text("Ihre Termine sind gebucht")
    code = page.locator(".booking-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", code)
    expect(page.locator("main")).to_contain_text("Eine SMS an +49 170 12340001 ist unterwegs")
    expect(page.locator(".person-appointments")).to_have_count(2)
    assert slot_counts(server.database, slot_ids) == {i: n + 2 for i, n in before.items()}
    shot(page, screenshots, "journey-08-confirmation")
    page.emulate_media(media="print")
    shot(page, screenshots, "journey-08-confirmation-print")
    page.emulate_media(media="screen")

    page.goto("/manage")
    page.get_by_label("Buchungscode").fill(code.lower().replace("-", " "))
    page.get_by_label("Geburtsdatum").fill("17.09.1937")
    page.get_by_role("button", name="Buchung anzeigen").click()
    expect(page.locator(".status")).to_have_text("gebucht")
    shot(page, screenshots, "journey-09-manage")
    page.get_by_role("link", name="Termine absagen").click()
    expect(page.locator("h1")).to_have_text("Termine wirklich absagen?")
    shot(page, screenshots, "journey-10-cancel-confirm")
    page.get_by_role("button", name="Ja, Termine absagen").click()
    expect(page.locator(".status")).to_have_text("abgesagt")
    expect(page.locator(".notice")).to_contain_text("Ihre Termine sind abgesagt")
    assert slot_counts(server.database, slot_ids) == before
    shot(page, screenshots, "journey-11-cancelled")


def test_slot_taken_meanwhile_shows_fresh_offers_and_keeps_the_data(
    page: Page, server: DemoServer, screenshots: Path
) -> None:
    verify_phone(page, screenshots, "+4917012340002", "taken")
    first = page.locator(".offer").first
    key = first.locator("[name=offer]").get_attribute("value") or ""
    first.get_by_role("button").click()
    fill_person(page, 0, {**PEOPLE[0], "Vorname": "Käthe", "Nachname": "Özdemir"})
    page.get_by_label("E-Mail-Adresse").fill("kaethe@example.org")
    taken = int(key.split("-")[0])
    with sqlite3.connect(server.database, timeout=10) as conn:  # someone else was quicker
        conn.execute(
            "UPDATE slots SET booked = capacity, phone_reserved = 0 WHERE id = ?", (taken,)
        )
    page.get_by_role("button", name="Verbindlich buchen").click()

    expect(page.locator(".notice")).to_contain_text("gerade von jemand anderem gebucht")
    assert page.locator(f"[name=offer][value^='{taken}-']").count() == 0
    kept = page.locator(".offer").first
    assert kept.locator("input[name='p0.first_name']").get_attribute("value") == "Käthe"
    assert kept.locator("input[name='p0.email']").get_attribute("value") == "kaethe@example.org"
    shot(page, screenshots, "taken-05-fresh-offers")
    kept.get_by_role("button", name="Diese Termine buchen").click()

    expect(page.locator("h1")).to_have_text("Ihre Termine sind gebucht")
    expect(page.locator("main")).to_contain_text("Käthe Özdemir")
    expect(page.locator("main")).to_contain_text("kaethe@example.org")
    shot(page, screenshots, "taken-06-confirmation")


def test_an_offer_takes_the_radios_vaccine_and_a_rebooking_is_confirmed_first(
    page: Page, server: DemoServer, screenshots: Path
) -> None:
    """The radio changed to Moderna without pressing "show", then a BioNTech offer pressed:
    the page answers with Moderna's offers and says why; each offer names its vaccine. The
    booking shows the vaccine and the street; rebooking asks before it moves, and its SMS
    says "umgebucht"."""
    verify_phone(page, screenshots, "+4917012340003", "vaccine")
    first = page.locator(".offer").first
    expect(first).to_contain_text("Impfstoff: BioNTech/Comirnaty")
    page.get_by_label("Moderna/Spikevax", exact=True).check()
    first.get_by_role("button").click()
    expect(page.locator(".notice")).to_contain_text(
        "Sie haben Moderna/Spikevax gewählt, das Angebot war für BioNTech/Comirnaty"
    )
    expect(page.locator(".offer").first).to_contain_text("Impfstoff: Moderna/Spikevax")
    assert page.locator(".offer", has_text="BioNTech").count() == 0
    assert_accessible(page)
    shot(page, screenshots, "vaccine-05-changed-radio")
    page.locator(".offer").first.get_by_role("button").click()
    expect(page.locator("h1")).to_have_text("Ihre Angaben")
    expect(page.locator("main")).to_contain_text("Impfstoff: Moderna/Spikevax")
    assert_accessible(page)
    shot(page, screenshots, "vaccine-06-details")
    fill_person(page, 0, PEOPLE[0])
    page.get_by_role("button", name="Verbindlich buchen").click()
    expect(page.locator("h1")).to_have_text("Ihre Termine sind gebucht")
    expect(page.locator("main")).to_contain_text("Moderna/Spikevax")
    expect(page.locator("main")).to_contain_text("Am Stadtholz 24, 33602 Bielefeld")
    code = page.locator(".booking-code").inner_text()

    # Rebooking: the offers, then a page that shows old and new, then the SMS says so.
    page.goto("/manage")
    page.get_by_label("Buchungscode").fill(code)
    page.get_by_label("Geburtsdatum").fill(PEOPLE[0]["Geburtsdatum"])
    page.get_by_role("button", name="Buchung anzeigen").click()
    page.get_by_role("link", name="Andere Termine wählen").click()
    page.locator(".offer").first.get_by_role("button").click()
    expect(page.locator("h1")).to_have_text("Wirklich umbuchen?")
    assert_accessible(page)
    shot(page, screenshots, "vaccine-08-rebook-confirm")
    page.get_by_role("button", name="Ja, umbuchen").click()
    expect(page.locator(".notice")).to_contain_text("Umgebucht")
    mailbox = page.context.new_page()
    mailbox.goto("/dev/mailbox?to=%2B4917012340003")
    expect(mailbox.locator(".message-body").first).to_contain_text("Impftermin umgebucht")
