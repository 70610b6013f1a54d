"""The admin console's browser tests run against a demo server of their own (on a copy of
the run's demo database, tests/e2e/demo.py): they change cohorts and the waiting room, which
the portal's pages must not meet."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import chromium, open_page
from tests.e2e.demo import DemoServer, serve_demo


@pytest.fixture(scope="package")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_template: Path
) -> DemoServer:
    return serve_demo(request, demo_template, tmp_path_factory.mktemp("admin-server"))


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def axe_page(browser: Browser, server: DemoServer) -> Iterator[Page]:
    """A page at desktop width that takes axe-core's script despite the pages' CSP."""
    with open_page(browser, server) as opened:
        yield opened
