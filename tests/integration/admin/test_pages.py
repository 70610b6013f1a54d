"""The admin settings pages as a browser without script sees them (SQLite and PostgreSQL):
each page shows what is stored, in Berlin time; a form saves through the same use case
(audited, channel browser) and answers 303; a wrong form comes back with the field named
and what was typed, in the page's language, and nothing changed."""

from __future__ import annotations

import pytest

from kontingent.app import Services
from kontingent.staff.model import Role
from tests.integration.admin.conftest import Client, audit_rows
from tests.integration.agent.conftest import Browser
from tests.integration.staff.conftest import add_accounts


@pytest.fixture
async def browser(client: Client, services: Services) -> Browser:
    await add_accounts(services)
    found = Browser(client)
    await found.log_in(Role.admin)
    return found


async def test_every_settings_page_shows_what_is_stored(browser: Browser) -> None:
    vaccines = await browser.open("/admin/vaccines")
    assert vaccines.status_code == 200 and "BioNTech/Comirnaty" in vaccines.text
    assert "21 bis 42 Tage" in vaccines.text
    one = await browser.open("/admin/vaccines/BNT")
    assert 'name="interval_min_days" type="text" value="21"' in one.text
    cohorts = await browser.open("/admin/cohorts")
    assert "70 bis 79 Jahre" in cohorts.text and "noch nicht offen" in cohorts.text
    cohort = await browser.open("/admin/cohorts/3")
    assert 'value="2026-01-26T08:00"' in cohort.text  # 08:00 Berlin, stored in UTC
    assert (await browser.open("/admin/cohorts/new")).status_code == 200
    campaign = await browser.open("/admin/campaign", lang="en")
    assert "Waiting room" in campaign.text and "Booking window" in campaign.text


async def test_a_cohort_is_changed_and_added_through_the_form(
    browser: Browser, services: Services
) -> None:
    await browser.open("/admin/cohorts/3")
    form = {"name": "70 bis 79 Jahre", "min_age": "70", "max_age": "79",
            "opens_at": "2026-01-12T10:00", "district_rule": "own"}  # fmt: skip
    page = await browser.client.post(
        "/admin/cohorts/3",
        data={**form, "vaccines": ["BNT", "AZ"], "_csrf_token": browser.token},
        follow_redirects=False,
    )
    assert page.status_code == 303 and page.headers["location"] == "/admin/cohorts/3?note=saved"
    shown = await browser.open(page.headers["location"])
    assert "Gespeichert" in shown.text and 'value="2026-01-12T10:00"' in shown.text
    [row] = await audit_rows(services, "cohort_changed")
    assert row["channel"] == "browser"
    assert row["details"]["changes"]["opens_at"] == [
        "2026-01-26T07:00:00+00:00",
        "2026-01-12T09:00:00+00:00",
    ]
    await browser.open("/admin/cohorts/new")
    added = await browser.submit(
        "/admin/cohorts/new", {**form, "name": "Neu", "vaccines": "JNJ", "max_age": ""}
    )
    assert "Angelegt" in added.text and "Neu" in added.text


async def test_a_wrong_form_comes_back_with_the_field_named_and_nothing_changed(
    browser: Browser, services: Services
) -> None:
    await browser.open("/admin/vaccines/BNT")
    form = {"name": "BioNTech", "doses": "2", "interval_min_days": "50",
            "interval_max_days": "42", "interval_recommended_days": "", "min_age": "16",
            "max_age": ""}  # fmt: skip
    back = await browser.submit("/admin/vaccines/BNT", form)
    assert "mindestens so viele wie der kürzeste Abstand" in back.text
    assert 'href="#interval_max_days"' in back.text and 'value="50"' in back.text
    typo = await browser.submit("/admin/vaccines/BNT", {**form, "interval_min_days": "drei"})
    assert "ganze Zahl" in typo.text
    await browser.open("/admin/campaign", lang="en")
    room = {"waiting_room.mode": "scheduled", "waiting_room.opens_at": "",
            "waiting_room.rate": "0"}  # fmt: skip
    refused = await browser.submit("/admin/campaign/waiting-room", room)
    assert "Admissions per second, at least 0.01." in refused.text
    assert await audit_rows(services, "vaccine_") == []
    assert await audit_rows(services, "waiting_room") == []
    saved = await browser.submit(
        "/admin/campaign/waiting-room", {**room, "waiting_room.rate": "2.5"}
    )
    assert "Saved" in saved.text and "The waiting room is on" in saved.text
