"""The offers page's week view through the app, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.integration.web.conftest import Portal, check_html
from tests.support import phone


async def test_smoke(portal: Portal) -> None:
    await portal.verified(phone(1))
    page = await portal.get("/choose")
    check_html(page.text)
    open("/tmp/weekwork/choose.html", "w").write(page.text)
    page = await portal.get("/choose", day="2026-01-14", part="afternoon")
    check_html(page.text)
    open("/tmp/weekwork/choose_day.html", "w").write(page.text)
