"""The waiting room in the portal: information pages stay open, the verification and booking
steps send a person to /warteschlange, which shows the place in line, refreshes itself, and
continues where the person was once admitted."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient

from kontingent.app import Services, create_app
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.waiting_room.redis_store import RedisWaitingRoom
from tests.integration.waiting_room.conftest import DEAD_REDIS_URL
from tests.integration.web.conftest import Portal, person_form
from tests.support import BIELEFELD, T0, claims_for, person, phone, read_pin

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')


def _room(settings: Settings, opens_in: timedelta = timedelta(0)) -> Settings:
    return dataclasses.replace(
        settings,
        waiting_room=True,
        waiting_room_opens_at=(T0 + opens_in).isoformat(),
        waiting_room_admission_rate=1.0,
    )


@pytest.fixture
async def browser(
    settings: Settings, clock: FixedClock, services: Services
) -> AsyncIterator[Portal]:
    async with AsyncTestClient(create_app(_room(settings), clock)) as client:
        yield Portal(client, services)


async def _through_queue(browser: Portal, clock: FixedClock, expect_next: str) -> None:
    page = await browser.get("/warteschlange")
    assert page.status_code == 200 and "Warteschlange" in page.text
    clock.advance(timedelta(seconds=2))
    answer = await browser.client.get("/warteschlange", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == expect_next


async def test_information_pages_stay_open_and_the_phone_step_queues(
    browser: Portal, clock: FixedClock
) -> None:
    for path in ("/", "/eligibility", "/manage"):
        assert (await browser.get(path)).status_code == 200, path
    await browser.eligible()
    assert (await browser.get("/eligibility/result")).status_code == 200
    door = await browser.client.get("/phone", follow_redirects=False)
    assert door.status_code == 303 and door.headers["location"] == "/warteschlange"
    page = await browser.get("/warteschlange")
    assert page.status_code == 200
    assert "Sie sind in der Warteschlange" in page.text and 'id="queue-position">1<' in page.text
    refresh = REFRESH.search(page.text)
    assert refresh and 20 <= int(refresh.group(1)) <= 120
    english = await browser.get("/warteschlange", lang="en")
    assert "You are in the queue" in english.text
    clock.advance(timedelta(seconds=2))
    admitted = await browser.client.get("/warteschlange", follow_redirects=False)
    assert admitted.status_code == 303 and admitted.headers["location"] == "/phone"
    assert (await browser.get("/phone")).status_code == 200


async def test_an_admitted_person_verifies_and_books_and_the_admission_is_then_spent(
    browser: Portal, clock: FixedClock
) -> None:
    await browser.eligible()
    await browser.client.get("/phone", follow_redirects=False)
    await _through_queue(browser, clock, "/phone")
    await browser.get("/phone")
    assert (await browser.post("/phone", {"phone": phone(5)})).headers["location"] == "/pin"
    await browser.get("/pin")
    pin = await read_pin(browser.services, phone(5))
    assert (await browser.post("/pin", {"pin": pin})).headers["location"] == "/choose"
    offer = await browser.offer()
    form = await browser.details(offer)
    form.update(person_form(0, person(5)))
    booked = await browser.post("/book", form)
    assert booked.status_code == 303 and "/confirmation/" in booked.headers["location"]
    again = await browser.client.get("/phone", follow_redirects=False)
    assert again.headers["location"] == "/warteschlange"  # a new booking queues again


async def test_a_booking_form_sent_without_admission_keeps_its_typing_through_the_queue(
    browser: Portal, clock: FixedClock
) -> None:
    await browser.eligible()
    await browser.client.get("/phone", follow_redirects=False)
    await _through_queue(browser, clock, "/phone")
    await browser.get("/phone")
    await browser.post("/phone", {"phone": phone(6)})
    await browser.get("/pin")
    await browser.post("/pin", {"pin": await read_pin(browser.services, phone(6))})
    offer = await browser.offer()
    form = await browser.details(offer)
    form.update(person_form(0, person(6, last_name="Queue-Kept")))
    clock.advance(timedelta(minutes=16))  # the admission ran out while typing
    held = await browser.post("/book", form)
    assert held.status_code == 303 and held.headers["location"] == "/warteschlange"
    # Nobody else waits: a new ticket is let in at once, back to the kept form.
    answer = await browser.client.get("/warteschlange", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/details?offer={offer}"
    page = await browser.get("/details", offer=offer)
    assert page.status_code == 200 and "Queue-Kept" in page.text


async def test_before_the_opening_the_page_says_the_order_is_drawn_then(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    app = create_app(_room(settings, opens_in=timedelta(minutes=30)), clock)
    async with AsyncTestClient(app) as client:
        browser = Portal(client, services)
        await browser.eligible()
        await client.get("/phone", follow_redirects=False)
        page = await browser.get("/warteschlange")
        assert "Die Buchung beginnt" in page.text and "ausgelost" in page.text
        assert "queue-position" not in page.text


async def test_with_the_store_unreachable_the_page_says_so_and_lets_nobody_through(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    app = create_app(_room(settings), clock)
    room = app.state.services.waiting_room
    await room.store.aclose()
    room.store = RedisWaitingRoom.from_url(DEAD_REDIS_URL, "kt_test_dead:")
    async with AsyncTestClient(app) as client:
        browser = Portal(client, services)
        await browser.eligible()
        door = await client.get("/phone", follow_redirects=False)
        assert door.headers["location"] == "/warteschlange"
        page = await browser.get("/warteschlange")
        assert page.status_code == 503 and int(page.headers["Retry-After"]) > 0
        assert "niemand hereingelassen" in page.text
        assert REFRESH.search(page.text)


async def test_before_the_opening_new_places_are_drawn_a_limited_number_of_times_per_address(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    limited = dataclasses.replace(
        _room(settings, opens_in=timedelta(minutes=30)),
        rate_limits=True,
        rate_queue_draw_per_ip="2/10m",
    )
    async with AsyncTestClient(create_app(limited, clock)) as client:
        for _ in range(2):  # a fresh session each time: a script throwing its cookie away
            client.cookies.clear()
            assert (await client.get("/warteschlange")).status_code == 200
        client.cookies.clear()
        refused = await client.get("/warteschlange")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert "Minuten" in refused.text  # says how long to wait


async def test_rebooking_waits_its_turn_like_a_booking_but_cancelling_does_not(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    old = (await services.inventory.offers(BIELEFELD, "BNT", 1, limit=2)).offers[0]
    claims = await claims_for(services, phone(7))
    code = (await services.booking.book(claims, [person(7)], old.slot_ids)).code
    async with AsyncTestClient(create_app(_room(settings), clock)) as client:
        browser = Portal(client, services)
        await browser.get("/manage")
        answer = await browser.post("/manage", {"code": code, "birth_date": "1.5.1939"})
        assert answer.headers["location"] == f"/manage/{code}"
        shown = await client.get(f"/manage/{code}/rebook", follow_redirects=False)
        sent = await browser.post(f"/manage/{code}/rebook", {"offer": "1-2"})
        for door in (shown, sent):
            assert door.status_code == 303 and door.headers["location"] == "/warteschlange"
        assert (await browser.get(f"/manage/{code}/cancel")).status_code == 200  # stays open
        await _through_queue(browser, clock, f"/manage/{code}/rebook")
        page = await browser.get(f"/manage/{code}/rebook")
        assert page.status_code == 200 and 'name="offer"' in page.text
