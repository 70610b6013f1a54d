"""The staff login in a real browser against `kontingent serve --demo`: the demo's printed
admin password logs in, the audit log shows that login, logging out ends the session; the
login page and the audit page pass axe-core in German and English.

axe-core is injected into a context that bypasses the pages' CSP (the portal allows no
script); it comes from npm (`make browser` installs it under .venv/axe),
or from the file KONTINGENT_AXE_JS names. Screenshots go to docs/screenshots/portal/.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser import axe_violations, demo_password, open_page
from tests.e2e.demo import DemoServer

pytestmark = pytest.mark.slow


@pytest.fixture
def staff_page(browser: Browser, server: DemoServer) -> Iterator[Page]:
    """No locale set: the browser's own language, as a staff member's browser may have."""
    viewport = {"width": 1100, "height": 900}
    with open_page(browser, server, viewport=viewport, locale=None) as page:
        yield page


def test_staff_log_in_read_the_audit_log_and_log_out(
    staff_page: Page, server: DemoServer, screenshots: Path, axe_source: str
) -> None:
    page = staff_page
    page.goto("/admin/audit")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/admin/audit$"))
    assert axe_violations(page, axe_source) == []
    page.screenshot(path=str(screenshots / "staff-01-login.png"), full_page=True)
    page.goto("/staff/login?lang=en&next=/admin/audit")
    assert axe_violations(page, axe_source) == []
    page.get_by_label("User name").fill("demo-admin")
    page.get_by_label("Password").fill("not the password at all")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".error-summary")).to_contain_text("user name or password is wrong")
    assert axe_violations(page, axe_source) == []
    page.screenshot(path=str(screenshots / "staff-02-login-failed.png"), full_page=True)
    page.get_by_label("Password").fill(demo_password(server, "demo-admin"))
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/admin/audit$"))
    expect(page.locator("table.audit-table")).to_contain_text("login_failed")
    expect(page.locator("table.audit-table tbody tr").first).to_contain_text("demo-admin")
    assert axe_violations(page, axe_source) == []
    page.screenshot(path=str(screenshots / "staff-03-audit.png"), full_page=True)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator(".notice")).to_contain_text("logged out")
    page.goto("/staff")
    expect(page).to_have_url(re.compile(r"/staff/login\?next=/staff$"))
