"""The citizen's steps the portal's browser tests share: from the start page to the offers
(eligibility, phone number, the PIN read from the dev mailbox) and the persons form."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.browser import assert_accessible, shot

PIN_LOOKS = 150
PIN_LOOK_EVERY_MS = 200  # the embedded relay's rounds are half a second apart at most


def read_pin(page: Page, phone: str) -> str:
    """The PIN of the newest SMS to `phone` in the dev mailbox. The relay delivers after the
    request that queued it answered: the mailbox page is read again until it is there (for
    up to PIN_LOOKS × PIN_LOOK_EVERY_MS, 30 s)."""
    mailbox = page.context.new_page()
    url = f"/dev/mailbox?to={phone.replace('+', '%2B')}"
    mailbox.goto(url)
    for _ in range(PIN_LOOKS):
        if mailbox.locator(".message-body").count():
            break
        mailbox.wait_for_timeout(PIN_LOOK_EVERY_MS)  # the relay's next round, polled
        mailbox.goto(url)
    text = mailbox.locator(".message-body").first.inner_text()
    mailbox.close()
    found = re.search(r"\b(\d{6})\b", text)
    assert found, text
    return found.group(1)


def verify_phone(page: Page, screenshots: Path, phone: str, prefix: str) -> None:
    """From the start page to the offers: eligibility, phone number and PIN."""
    page.goto("/")
    page.get_by_role("link", name="Termin suchen").click()
    # keyboard only: the label puts the focus in the field, Tab moves on, Enter submits
    page.get_by_label("Geburtsdatum").focus()
    page.keyboard.type("01.05.1939")
    page.keyboard.press("Tab")
    page.keyboard.type("33602")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Sie können jetzt Termine buchen")
    shot(page, screenshots, f"{prefix}-03-eligible")
    page.get_by_role("link", name="Weiter: Handynummer bestätigen").click()
    page.get_by_label("Handynummer").fill(phone.replace("+49", "0"))
    page.get_by_role("button", name="PIN per SMS schicken").click()
    expect(page.locator("h1")).to_have_text("Geben Sie die PIN aus der SMS ein")
    expect(page.locator("main")).to_contain_text("Die PIN gilt 30 Minuten")
    assert_accessible(page)
    shot(page, screenshots, f"{prefix}-04-pin")
    page.get_by_label("PIN", exact=True).fill(read_pin(page, phone))
    page.get_by_role("button", name="PIN bestätigen").click()
    expect(page.locator("h1")).to_have_text("Wählen Sie Ihre Termine")


def fill_person(page: Page, index: int, data: dict[str, str]) -> None:
    group = page.locator("fieldset").nth(index)
    for label, value in data.items():
        group.get_by_label(label, exact=True).fill(value)
