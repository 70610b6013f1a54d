"""The release pages as a browser without script sees them: the form, the confirmation with
slots and seats per centre, the release itself (303 to its page), a refusal back on the form
with the message on its field and the values kept, and withdrawing in two steps."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.app import Services
from kontingent.staff.model import Role
from tests.integration.agent.conftest import Browser
from tests.integration.staff.conftest import add_accounts

Client = AsyncTestClient[Litestar]
FORM = {
    "vaccine": "JNJ",
    "centres": "chosen",
    "centre": ["1", "2"],
    "first_day": "09.02.2026",
    "last_day": "10.02.2026",
    "when": "at",
    "at_date": "12.01.2026",
    "at_time": "10:00",
}


@pytest.fixture
async def admin(client: Client, services: Services) -> Browser:
    await add_accounts(services)
    browser = Browser(client)
    await browser.log_in(Role.admin)
    return browser


async def test_check_confirm_and_release_then_withdraw(admin: Browser, services: Services) -> None:
    form = await admin.open("/admin/releases")
    assert form.status_code == 200 and "Kontingente freigeben" in form.text
    confirm = await admin.open("/admin/releases/confirm", **FORM)
    assert confirm.status_code == 200, confirm.text
    text = re.sub(r"\s+", " ", confirm.text)
    assert "Impfzentrum Bielefeld" in text and "<td>72</td><td>3.168</td>" in text  # 2 days
    assert "Freigabe für Montag, 12. Januar 2026, 10:00 Uhr planen" in text
    page = await admin.submit("/admin/releases", FORM)
    assert "Die Freigabe ist geplant" in page.text and "Stand: geplant" in page.text
    (made,) = (await services.releases.history())[0]
    assert (made.status, made.slots, made.created_by) == ("scheduled", 144, "admin.ada")

    ask = await admin.open(f"/admin/releases/{made.id}/cancel")
    assert "wirklich zurückziehen" in ask.text
    done = await admin.submit(f"/admin/releases/{made.id}/cancel", {})
    assert "Stand: zurückgezogen" in done.text
    assert (await services.releases.get(made.id)).status == "cancelled"


async def test_a_refusal_comes_back_on_its_field_with_the_values(admin: Browser) -> None:
    await admin.open("/admin/releases")
    bad = {**FORM, "vaccine": "BNT", "first_day": "20.03.2026", "last_day": "24.03.2026"}
    page = await admin.submit("/admin/releases", bad)
    assert page.status_code == 200
    assert "schon freigegeben: Impfzentrum Bielefeld (09.02.2026 bis 22.03.2026)" in page.text
    assert 'value="20.03.2026"' in page.text
    wrong = await admin.open("/admin/releases/confirm", **{**FORM, "at_time": "25:00"})
    assert wrong.status_code == 422 and "wie 08:00" in wrong.text


async def test_release_now_from_the_page(admin: Browser, services: Services) -> None:
    await admin.open("/admin/releases/confirm", **{**FORM, "when": "now"})
    page = await admin.submit("/admin/releases", {**FORM, "when": "now"})
    assert "Freigegeben: Die Termine sind jetzt buchbar." in page.text
    assert "Stand: freigegeben" in page.text
