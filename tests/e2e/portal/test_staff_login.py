"""The staff login in a real browser against `kontingent serve --demo`: the demo's printed
admin password logs in, the audit log shows that login, logging out ends the session; the
login page and the audit page pass axe-core in German and English.

axe-core is injected into a context that bypasses the pages' CSP (the portal allows no
script); it comes from npm (`make browser` installs it under .venv/axe),
or from the file KONTINGENT_AXE_JS names. Screenshots go to tests/e2e/screenshots/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.portal.conftest import AXE as AXE_DEFAULT
from tests.e2e.portal.conftest import Server

pytestmark = pytest.mark.slow
# Where `make browser` puts it (tests/e2e/portal/conftest.py), unless KONTINGENT_AXE_JS says.
AXE = Path(os.environ.get("KONTINGENT_AXE_JS", AXE_DEFAULT))


@pytest.fixture
def staff_page(browser: Browser, server: Server) -> Iterator[Page]:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing at {AXE}: run `make browser` (npm install axe-core@4)")
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1100, "height": 900}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def violations(page: Page) -> list[dict[str, Any]]:
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        "async () => (await axe.run(document)).violations"
        ".map(v => ({id: v.id, nodes: v.nodes.map(n => n.target.join(' '))}))"
    )
    return found


def demo_password(server: Server, username: str) -> str:
    found = re.search(rf"{username}\s+password: (\S+)", server.log.read_text())
    assert found, server.log.read_text()[-2000:]
    return found.group(1)


def test_staff_log_in_read_the_audit_log_and_log_out(
    staff_page: Page, server: Server, screenshots: Path
) -> None:
    page = staff_page
    page.goto("/admin/audit")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/admin/audit$"))
    assert violations(page) == []
    page.screenshot(path=str(screenshots / "staff-01-login.png"), full_page=True)
    page.goto("/staff/login?lang=en&next=/admin/audit")
    assert violations(page) == []
    page.get_by_label("User name").fill("demo-admin")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error-summary")).to_contain_text("user name or password is wrong")
    assert violations(page) == []
    page.screenshot(path=str(screenshots / "staff-02-login-failed.png"), full_page=True)
    page.get_by_label("Password").fill(demo_password(server, "demo-admin"))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    expect(page.locator("table.audit-table")).to_contain_text("login_failed")
    expect(page.locator("table.audit-table tbody tr").first).to_contain_text("demo-admin")
    assert violations(page) == []
    page.screenshot(path=str(screenshots / "staff-03-audit.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".notice")).to_contain_text("logged out")
    page.goto("/staff")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/staff$"))
