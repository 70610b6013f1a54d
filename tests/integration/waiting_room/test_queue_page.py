"""What the queue page tells a waiting person (issue 14, item 10): it reloads no more often
than every 20 seconds, names the wait, says "heute um 08:00" rather than a full date for
today, and, when the room is off, says what the room is instead of sending people on without
a word."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, time, timedelta

import pytest
from litestar.testing import AsyncTestClient

from kontingent.app import Services, create_app
from kontingent.clock import BERLIN, FixedClock
from kontingent.config import Settings
from kontingent.waiting_room.redis_store import RedisWaitingRoom
from kontingent.web.queue import REFRESH_MIN_S
from tests.integration.waiting_room.conftest import DEAD_REDIS_URL
from tests.integration.web.conftest import Portal, check_html
from tests.support import T0

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
REFRESH = re.compile(r'<meta http-equiv="refresh" content="(\d+)">')
# The clock stands still unless told: joins in one instant get one score, and the store
# orders equal scores by the (random) ticket, so "someone ahead" must join a moment earlier.
_AFTER = timedelta(milliseconds=1)


def _room(settings: Settings, opens_at: datetime = T0, rate: float = 1.0) -> Settings:
    return dataclasses.replace(
        settings,
        waiting_room=True,
        waiting_room_opens_at=opens_at.isoformat(),
        waiting_room_admission_rate=rate,
    )


def _refresh(html: str) -> int:
    found = REFRESH.search(html)
    assert found, html
    return int(found.group(1))


async def _queued(portal: Portal) -> str:
    await portal.eligible()
    door = await portal.client.get("/phone", follow_redirects=False)
    assert door.headers["location"] == "/warteschlange"
    page = await portal.get("/warteschlange")
    check_html(page.text)
    return str(page.text)


async def test_the_page_reloads_no_more_often_than_every_20_seconds_near_the_front(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    """First in line, where the room would have the page ask every 2 seconds."""
    assert REFRESH_MIN_S == 20
    app = create_app(_room(settings, rate=0.01), clock)  # nobody is let in for a while
    async with AsyncTestClient(app) as client:
        await client.post("/api/v1/queue")  # someone ahead takes the one admission
        clock.advance(_AFTER)  # ahead by time, not by a tie
        page = await _queued(Portal(client, services))
        assert 'id="queue-position">2<' in page
        refresh = _refresh(page)
        assert refresh >= 20 and f"etwa alle {refresh} Sekunden" in page
        assert 'aria-live="assertive"' not in page and 'role="alert"' not in page


async def test_the_page_names_the_least_wait_at_the_rooms_admission_rate(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    """150 people ahead, one let in per second: at least 2 minutes (no steady rate yet)."""
    async with AsyncTestClient(create_app(_room(settings), clock)) as client:
        for _ in range(150):
            assert (await client.post("/api/v1/queue")).status_code in (200, 201)
        clock.advance(_AFTER)  # all 150 ahead by time, not by ties
        page = await _queued(Portal(client, services))
        assert 'id="queue-wait">mindestens 2 Minuten<' in page
        english = await client.get("/warteschlange", params={"lang": "en"})
        assert 'id="queue-wait">at least 2 minutes<' in english.text


@pytest.mark.parametrize(
    ("opens_at", "german", "english"),
    [
        (T0 + timedelta(hours=1), "heute um 10:00 Uhr", "today at 10:00"),
        (
            datetime.combine(T0.date() + timedelta(days=1), time(8, 0), BERLIN),
            "morgen um 08:00 Uhr",
            "tomorrow at 08:00",
        ),
        (
            datetime.combine(T0.date() + timedelta(days=3), time(8, 0), BERLIN),
            "am Donnerstag, 15. Januar 2026, um 08:00 Uhr",
            "on Thursday, 15 January 2026 at 08:00",
        ),
    ],
)
async def test_before_the_opening_the_page_says_today_or_tomorrow_in_words(
    settings: Settings,
    clock: FixedClock,
    services: Services,
    opens_at: datetime,
    german: str,
    english: str,
) -> None:
    async with AsyncTestClient(create_app(_room(settings, opens_at), clock)) as client:
        page = await _queued(Portal(client, services))
        assert f"Die Buchung beginnt {german}." in page
        assert _refresh(page) >= 20
        page_en = await client.get("/warteschlange", params={"lang": "en"})
        assert f"Booking opens {english}." in page_en.text


async def test_while_the_store_is_down_the_page_still_waits_20_seconds(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    app = create_app(_room(settings), clock)
    room = app.state.services.waiting_room
    await room.store.aclose()
    room.store = RedisWaitingRoom.from_url(DEAD_REDIS_URL, "kt_test_dead:")
    async with AsyncTestClient(app) as client:
        browser = Portal(client, services)
        await browser.eligible()
        await client.get("/phone", follow_redirects=False)
        page = await browser.get("/warteschlange")
        assert page.status_code == 503 and _refresh(page.text) >= 20
        assert "in 20 Sekunden von selbst wieder" in page.text


async def test_with_the_room_off_the_page_explains_the_room_and_links_on(
    settings: Settings, clock: FixedClock, services: Services
) -> None:
    """No silent redirect: a plain page, no reload, a link to where the person was going."""
    assert not settings.waiting_room
    async with AsyncTestClient(create_app(settings, clock)) as client:
        await _off_page(Portal(client, services))


async def _off_page(portal: Portal) -> None:
    page = await portal.client.get("/warteschlange", follow_redirects=False)
    assert page.status_code == 200
    check_html(page.text)
    assert "<h1>Im Moment müssen Sie nicht warten</h1>" in page.text
    assert "Was ist die Warteschlange?" in page.text and "ausgelost" in page.text
    assert 'href="/eligibility"' in page.text and not REFRESH.search(page.text)
    english = await portal.client.get("/warteschlange", params={"lang": "en"})
    assert "No need to wait right now" in english.text
    await portal.eligible()
    assert (await portal.client.get("/phone")).status_code == 200  # the door is open anyway
