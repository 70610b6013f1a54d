"""The portal's browser tests: a real server (`kontingent serve --demo` on a copy of the run's
demo database, tests/e2e/demo.py) shared by the package, and Debian's Chromium driven by
Playwright. The tests share the server's slots, so each uses people and phone numbers of its
own. Screenshots go to docs/screenshots/portal/, where people look at them (a current set is
committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser import SCREENSHOTS, chromium, open_page
from tests.e2e.demo import DemoServer, serve_demo


@pytest.fixture(scope="package")
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, demo_template: Path
) -> DemoServer:
    return serve_demo(request, demo_template, tmp_path_factory.mktemp("portal-server"))


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser, server: DemoServer) -> Iterator[Page]:
    """A citizen's page: the portal's own CSP in force, a medium-wide window."""
    viewport = {"width": 1000, "height": 900}
    with open_page(browser, server, viewport=viewport, bypass_csp=False) as opened:
        yield opened


@pytest.fixture
def axe_page(browser: Browser, server: DemoServer) -> Iterator[Page]:
    """A page at desktop width that takes axe-core's script despite the pages' CSP."""
    with open_page(browser, server) as opened:
        yield opened


@pytest.fixture(scope="package", autouse=True)
def screenshots() -> Path:
    folder = SCREENSHOTS / "portal"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
