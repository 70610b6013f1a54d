"""A real server for the centre console's browser tests: `kontingent serve --demo` on a copy
of the run's demo database (tests/e2e/demo.py), its clock shifted to 09:00 (Berlin) of the
next day, so the day's appointments lie ahead whatever the hour the tests run at, and a known
secret key, so a test can sign the QR code a person brings."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from kontingent.clock import BERLIN
from tests.e2e.browser import chromium, open_page
from tests.e2e.demo import DemoServer, serve_demo

SECRET = "centre console browser test key, not a secret " * 2


def morning_offset() -> float:
    """Seconds from now to 09:00 tomorrow in Berlin."""
    now = datetime.now(BERLIN)
    nine = datetime.combine(now.date() + timedelta(days=1), time(9, 0), BERLIN)
    return (nine - now).total_seconds()


@pytest.fixture(scope="package")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_template: Path
) -> DemoServer:
    env = {
        "KONTINGENT_SECRET_KEY": SECRET,
        "KONTINGENT_CLOCK_OFFSET_S": str(int(morning_offset())),
    }
    return serve_demo(request, demo_template, tmp_path_factory.mktemp("centre-server"), env)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def axe_page(browser: Browser, server: DemoServer) -> Iterator[Page]:
    """A page at desktop width that takes axe-core's script despite the pages' CSP."""
    with open_page(browser, server) as opened:
        yield opened
