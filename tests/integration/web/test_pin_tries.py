"""PIN refusals that say what is left: tries after a wrong PIN (page and API details), and the
day's limit of PINs per number, which is a setting and, when reached, says in plain words
when it resets and that the hotline books for several people.

Time comes from the FixedClock the app was built with (T0 is Monday 09:00 in Berlin).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from tests.integration.web.conftest import Portal, messages
from tests.support import error_of, phone, read_pin


def summary(html: str) -> list[str]:
    """The entries of the error summary at the top of a page."""
    box = re.search(r'class="error-summary".*?</ul>', html, flags=re.S)
    assert box, html
    return [re.sub(r"<[^>]+>", "", li).strip() for li in re.findall(r"<li>(.*?)</li>", box[0])]


def wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 1_000_000:06d}"


async def test_each_wrong_pin_on_the_page_says_how_many_tries_are_left(portal: Portal) -> None:
    await portal.pin_sent(phone(40))
    pin = await read_pin(portal.services, phone(40))
    said = []
    for _ in range(5):
        page = await portal.submit("/pin", {"pin": wrong(pin)})  # 303, then the round
        said += messages(page.text)
    assert said == [
        "Die PIN stimmt nicht. Sie haben noch 4 Versuche. Prüfen Sie die SMS und versuchen Sie "
        "es noch einmal.",
        "Die PIN stimmt nicht. Sie haben noch 3 Versuche. Prüfen Sie die SMS und versuchen Sie "
        "es noch einmal.",
        "Die PIN stimmt nicht. Sie haben noch 2 Versuche. Prüfen Sie die SMS und versuchen Sie "
        "es noch einmal.",
        "Die PIN stimmt nicht. Sie haben noch 1 Versuch. Prüfen Sie die SMS genau.",
        "Die PIN stimmt nicht, und das war der letzte Versuch. Fordern Sie unten eine neue PIN an.",
    ]
    closed = await portal.submit("/pin", {"pin": pin})  # even the right one now
    assert messages(closed.text) == [
        "Zu viele falsche Versuche. Fordern Sie unten eine neue PIN an."
    ]


async def test_a_wrong_pin_in_english_counts_the_tries_too(portal: Portal) -> None:
    await portal.pin_sent(phone(41))
    pin = await read_pin(portal.services, phone(41))
    await portal.get("/pin", lang="en")
    page = await portal.submit("/pin", {"pin": wrong(pin)})
    assert messages(page.text) == [
        "Error: The PIN is not right. You have 4 tries left. Check the text message and try again."
    ]


async def test_the_api_names_the_tries_left_in_the_error_details(
    client: AsyncTestClient[Litestar], services: Services
) -> None:
    started = await client.post("/api/v1/verifications", json={"phone": phone(42)})
    verification_id = started.json()["verification_id"]
    pin = await read_pin(services, phone(42))
    path = f"/api/v1/verifications/{verification_id}"
    left = []
    for _ in range(5):
        error = error_of(await client.post(path, json={"pin": wrong(pin)}), 400, "wrong_pin")
        left.append(error["details"]["tries_left"])
    assert left == [4, 3, 2, 1, 0]
    assert error["message"] == (
        "the PIN is not right, and that was the last try: ask for a new PIN"
    )
    closed = error_of(await client.post(path, json={"pin": pin}), 429, "too_many_attempts")
    assert closed["details"]["tries_left"] == 0


@pytest.fixture
async def two_a_day(
    settings: Settings, clock: FixedClock, services: Services
) -> AsyncIterator[Portal]:
    """The app with KONTINGENT_PINS_PER_PHONE_PER_DAY=2."""
    fewer = dataclasses.replace(settings, pins_per_phone_per_day=2)
    async with AsyncTestClient(create_app(fewer, clock)) as client:
        yield Portal(client, services)


async def test_the_day_limit_is_the_setting_and_says_when_it_resets_and_who_books_for_several(
    two_a_day: Portal, clock: FixedClock
) -> None:
    await two_a_day.pin_sent(phone(43))  # the first PIN, Monday 09:00
    clock.advance(timedelta(minutes=5))
    assert (await two_a_day.post("/pin/resend", {})).status_code == 303  # the second
    clock.advance(timedelta(minutes=5))
    await two_a_day.get("/pin")
    page = await two_a_day.submit("/pin/resend", {})
    # The first PIN leaves the rolling day at Tuesday 09:00:00, so the next one fits at 09:00:01.
    assert summary(page.text) == [
        "An diese Nummer haben wir in den letzten 24 Stunden schon 2 PINs geschickt. Mehr gibt "
        "es für eine Nummer nicht. Die nächste PIN können Sie morgen um 09:00 Uhr anfordern. "
        "Buchen Sie für mehrere Angehörige? Die Hotline 116\u00a0117 bucht für mehrere Personen in "
        "einem Anruf."
    ]
    await two_a_day.get("/pin", lang="en")
    page = await two_a_day.submit("/pin/resend", {})
    assert "You can ask for the next PIN tomorrow at 09:00." in summary(page.text)[0]
    api = await two_a_day.client.post("/api/v1/verifications", json={"phone": phone(43)})
    error = error_of(api, 429, "too_many_pins")
    assert error["details"]["limit"] == 2
    assert error["details"]["resets_at"] == "2026-01-13T09:00:01+01:00"
    assert api.headers["retry-after"] == str(24 * 3600 - 10 * 60 + 1)
    assert "hotline 116 117 books for several people" in error["message"]
    clock.set(clock.now().replace(day=13, hour=9, minute=0, second=1))
    again = await two_a_day.client.post("/api/v1/verifications", json={"phone": phone(43)})
    assert again.status_code == 201, again.text
