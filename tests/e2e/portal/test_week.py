"""The week view in a real browser, by keyboard only: a day, then a part of it, then one of
its offers, each reached with Tab and taken with Enter; the chosen day and part are marked
(aria-current) and the offers are that day's, in that part of it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.portal.journey import verify_phone

pytestmark = pytest.mark.slow


def test_a_day_and_a_part_of_it_are_chosen_by_keyboard_and_its_offers_shown(
    page: Page, screenshots: Path
) -> None:
    verify_phone(page, screenshots, "+4917012340104", "week")
    if page.locator(".week-days a").count() < 2:  # late on a Sunday: next week's days
        page.locator(".week-paging a").last.focus()
        page.keyboard.press("Enter")
    day = page.locator(".week-days a").nth(1)
    label = day.locator(".week-day-name").inner_text()
    day.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"day=\d{4}-\d\d-\d\d"))
    chosen = page.locator(".week-days [aria-current=true]")
    expect(chosen).to_have_count(1)
    expect(chosen.locator(".week-day-name")).to_have_text(label)
    expect(page.locator("#parts-title")).to_contain_text("Tageszeit am")

    afternoon = page.locator(".part-list a").filter(has_text="Nachmittag")
    afternoon.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".part-list [aria-current=true]")).to_contain_text("Nachmittag")
    heading = page.locator("#offers").inner_text()
    assert heading.startswith("Termine am ") and heading.endswith("Nachmittag (12 bis 17 Uhr)")
    offers = page.locator(".centre").first.locator(".offer")  # the home centre's
    expect(offers.first).to_be_visible()
    day_text = heading.removeprefix("Termine am ").split(":")[0]
    for line in offers.locator(".doses li:first-child").all_inner_texts():
        assert day_text in line, (day_text, line)
        hour = int(re.search(r"(\d\d):\d\d Uhr", line).group(1))  # type: ignore[union-attr]
        assert 12 <= hour < 17, line

    button = offers.first.get_by_role("button")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text("Ihre Angaben")
    assert day_text in page.locator("main").inner_text()
