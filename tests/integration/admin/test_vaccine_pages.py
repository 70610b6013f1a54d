"""Adding a vaccine with the form on `/admin/vaccines`, as a browser without script does it
(SQLite and PostgreSQL): 303 back to the list with a confirmation, audited (channel
browser), usable at once in the cohorts' vaccine choice, the releases and the offers'
catalogue; each wrong field answers the page (422) with the field's message, in German or
English, and what was typed; a code in use answers 409; nothing refused is written; no
CSRF token, nothing done (303 back, as every form of the site)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from kontingent.app import Services
from kontingent.schema import vaccines
from kontingent.staff.model import Role
from tests.integration.admin.conftest import Client, audit_rows
from tests.integration.agent.conftest import Browser
from tests.integration.staff.conftest import add_accounts

FORM = {
    "code": "NVX",
    "name": "Novavax/Nuvaxovid",
    "doses": "2",
    "interval_min_days": "21",
    "interval_recommended_days": "21",
    "interval_max_days": "42",
    "min_age": "18",
    "max_age": "",
}


@pytest.fixture
async def browser(client: Client, services: Services) -> Browser:
    await add_accounts(services)
    found = Browser(client)
    await found.log_in(Role.admin)
    await found.open("/admin/vaccines")
    return found


async def stored(services: Services) -> int:
    async with services.db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(vaccines))).scalar_one())


async def test_a_vaccine_is_added_and_can_be_used_at_once(
    browser: Browser, services: Services
) -> None:
    page = await browser.get("/admin/vaccines")
    assert 'action="/admin/vaccines"' in page.text and 'name="code"' in page.text
    answer = await browser.post("/admin/vaccines", FORM)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/admin/vaccines?note=vaccine_added"
    listed = await browser.open(answer.headers["location"])
    assert "Der Impfstoff ist angelegt" in listed.text
    assert 'href="/admin/vaccines/NVX">Novavax/Nuvaxovid</a> (NVX)' in listed.text
    assert "21 bis 42 Tage, empfohlen 21" in listed.text
    [row] = await audit_rows(services, "vaccine_added")
    assert (row["channel"], row["target"]) == ("browser", "vaccine:NVX")
    assert row["details"]["interval_max_days"] == 42 and row["details"]["max_age"] is None
    vaccine = (await services.inventory.catalogue()).vaccines["NVX"]
    assert (vaccine.doses, vaccine.interval_min_days, vaccine.min_age) == (2, 21, 18)
    cohort_form = await browser.open("/admin/cohorts/new")
    assert 'id="vaccine-NVX" name="vaccines" value="NVX"' in cohort_form.text
    releases = await browser.open("/admin/releases")
    assert 'value="NVX"' in releases.text and "Novavax/Nuvaxovid" in releases.text


async def test_a_one_dose_vaccine_without_interval(browser: Browser, services: Services) -> None:
    one = {**FORM, "code": "JNJ-2", "name": "Eine Dosis", "doses": "1",
           "interval_min_days": "0", "interval_recommended_days": "", "interval_max_days": "0",
           "min_age": "", "max_age": ""}  # fmt: skip
    listed = await browser.submit("/admin/vaccines", one)
    assert "(JNJ-2)" in listed.text
    vaccine = (await services.inventory.catalogue()).vaccines["JNJ-2"]
    assert (vaccine.doses, vaccine.interval_max_days, vaccine.min_age) == (1, 0, None)


WRONG = [
    ("code", "", "1 bis 40 Buchstaben"),
    ("code", "NV X", "1 bis 40 Buchstaben"),
    ("code", "-NVX", "1 bis 40 Buchstaben"),
    ("code", "N" * 41, "1 bis 40 Buchstaben"),
    ("name", "", "Geben Sie einen Namen an"),
    ("name", "N" * 101, "höchstens 100 Zeichen"),
    ("doses", "", "Wählen Sie 1 oder 2 Dosen"),
    ("doses", "3", "Wählen Sie 1 oder 2 Dosen"),
    ("interval_min_days", "drei", "ganze Zahl"),
    ("interval_min_days", "400", "Tage von 0 bis 365"),
    ("interval_max_days", "14", "mindestens so viele wie der kürzeste Abstand"),
    ("interval_max_days", "", "ganze Zahl"),
    ("interval_recommended_days", "50", "zwischen kürzestem und längstem Abstand"),
    ("min_age", "-1", "Ein Alter von 0 bis 120"),
    ("min_age", "12,5", "ganze Zahl"),
    ("max_age", "10", "nicht unter dem niedrigsten Alter"),
    ("max_age", "121", "Ein Alter von 0 bis 120"),
]


@pytest.mark.parametrize(("field", "value", "message"), WRONG)
async def test_a_wrong_field_answers_the_page_with_its_message_and_writes_nothing(
    browser: Browser, services: Services, field: str, value: str, message: str
) -> None:
    before = await stored(services)
    page = await browser.post("/admin/vaccines", {**FORM, field: value})
    assert page.status_code == 422, page.text[:300]
    assert page.headers["content-type"].startswith("text/html")
    assert message in page.text
    assert f'href="#{field}"' in page.text  # the summary leads to the field
    if field != "doses":
        assert f'id="{field}-error"' in page.text and f'value="{value}"' in page.text
    assert 'value="Novavax/Nuvaxovid"' in page.text or field == "name"  # the rest kept
    assert await stored(services) == before
    assert await audit_rows(services, "vaccine_") == []


async def test_english_messages(browser: Browser, services: Services) -> None:
    await browser.open("/admin/vaccines", lang="en")
    page = await browser.post("/admin/vaccines", {**FORM, "code": "NV X", "min_age": "x"})
    assert page.status_code == 422
    assert "1 to 40 letters" in page.text and "whole number" in page.text
    assert await audit_rows(services, "vaccine_") == []


async def test_a_code_in_use_is_refused_and_nothing_changes(
    browser: Browser, services: Services
) -> None:
    async def bnt() -> dict[str, Any]:
        async with services.db.read() as conn:
            row = (await conn.execute(select(vaccines).where(vaccines.c.code == "BNT"))).one()
        return dict(row._mapping)

    before, count = await bnt(), await stored(services)
    page = await browser.post("/admin/vaccines", {**FORM, "code": "BNT"})
    assert page.status_code == 409
    assert "Einen Impfstoff mit dem Kürzel BNT gibt es schon" in page.text
    assert 'href="#code"' in page.text and 'value="BNT"' in page.text
    assert await bnt() == before and await stored(services) == count
    assert await audit_rows(services, "vaccine_") == []


async def test_without_the_csrf_token_nothing_is_added(
    browser: Browser, services: Services
) -> None:
    before = await stored(services)
    answer = await browser.post("/admin/vaccines", FORM, csrf=None)
    assert answer.status_code == 303  # back to the page, as for every form without it
    assert "vaccine_added" not in answer.headers["location"]
    assert await stored(services) == before
    assert await audit_rows(services, "vaccine_") == []


async def test_staff_who_are_no_admins_cannot_add(client: Client, services: Services) -> None:
    await add_accounts(services)
    agent = Browser(client)
    await agent.log_in(Role.agent)
    await agent.get("/agent")
    answer = await agent.post("/admin/vaccines", FORM)
    assert answer.status_code == 403
    assert "NVX" not in (await services.inventory.catalogue()).vaccines
