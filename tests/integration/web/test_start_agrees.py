"""The start page and the eligibility check agree (issue 14, item 11): for every age, the
vaccines the start page lists as open for it are those the check grants a person of that age
for a first dose today; the groups that open later name their vaccines and date; and when
several vaccines fit, the result says which to pick and why.

Birth dates and "today" come from the injected clock (T0 = Monday 12 January 2026, 09:00),
and again two weeks later, when the demo's 70-79 group has opened.
"""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from kontingent.clock import FixedClock
from kontingent.eligibility.model import age_on
from tests.integration.web.conftest import Portal, check_html
from tests.support import T0

pytestmark = pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
Client = AsyncTestClient[Litestar]
_GROUP = re.compile(r"<li><strong>(.*?)</strong>: (.*?)</li>")


def _ages(who: str) -> tuple[int, int | None]:
    found = re.fullmatch(r"(\d+) Jahre und älter", who) or re.fullmatch(
        r"(\d+) bis (\d+) Jahre", who
    )
    assert found, who
    return int(found.group(1)), int(found.group(2)) if found.lastindex == 2 else None


def _names(text: str) -> set[str]:
    return {n.strip() for n in re.split(r",| und ", text) if n.strip()}


async def open_groups(client: Client) -> list[tuple[int, int | None, set[str]]]:
    """The start page's "who can book now" list, read as a person reads it."""
    page = await client.get("/")
    check_html(page.text)
    now_part = page.text.split("Wer jetzt buchen kann", 1)[1].split("<h2>", 1)[0]
    return [
        (*_ages(html.unescape(who)), _names(html.unescape(vaccines)))
        for who, vaccines in _GROUP.findall(now_part)
    ]


async def granted_today(client: Client, born: date, today: date) -> set[str]:
    """The names of the vaccines the check lets this person take a first dose of today."""
    names = {v["code"]: v["name"] for v in (await client.get("/api/v1/vaccines")).json()}
    answer = (
        await client.post(
            "/api/v1/eligibility", json={"birth_date": born.isoformat(), "postcode": "33602"}
        )
    ).json()
    return {
        names[d["vaccine"]]
        for d in answer["first_dose_days"]
        if date.fromisoformat(d["first_day"]) <= today <= date.fromisoformat(d["last_day"])
    }


def birth_dates(today: date) -> list[date]:
    """Every age from 0 to 105, with a birthday weeks away, and people whose birthday into 60, 70 or
    80 is today, yesterday or tomorrow."""
    plain = [today.replace(year=today.year - age) - timedelta(days=40) for age in range(0, 106)]
    edges = [
        today.replace(year=today.year - age) + timedelta(days=shift)
        for age in (16, 18, 60, 70, 80)
        for shift in (-1, 0, 1)
    ]
    return plain + edges


@pytest.mark.parametrize("days_later", [0, 15])
async def test_for_every_age_the_start_page_lists_what_the_check_grants_today(
    client: Client, clock: FixedClock, days_later: int
) -> None:
    clock.set(T0 + timedelta(days=days_later))
    today = clock.now().date()
    groups = await open_groups(client)
    assert groups, "some group is open in the demo"
    for born in birth_dates(today):
        age = age_on(born, today)
        listed = [
            names for low, high, names in groups if low <= age and (high is None or age <= high)
        ]
        assert len(listed) <= 1, (age, groups)  # the groups do not overlap
        assert (listed[0] if listed else set()) == await granted_today(client, born, today), (
            born,
            age,
        )


async def test_the_start_page_names_the_groups_that_open_later_with_their_vaccines(
    client: Client,
) -> None:
    """The issue's case: someone born in 1951 read "70 to 79: from 18 December" and missed
    that AstraZeneca was open to them already."""
    page = (await client.get("/")).text
    assert (
        "<li><strong>60 bis 79 Jahre</strong>: AstraZeneca/Vaxzevria und Johnson &amp; "
        "Johnson/Jcovden</li>"
    ) in page
    assert (
        "<li><strong>70 bis 79 Jahre</strong>: BioNTech/Comirnaty und Moderna/Spikevax ab "
        "Montag, 26. Januar 2026, 08:00 Uhr</li>"
    ) in page


async def test_when_several_vaccines_fit_the_result_says_which_to_pick_and_why(
    portal: Portal,
) -> None:
    await portal.eligible("01.05.1939")  # 86: all four vaccines fit
    page = await portal.get("/eligibility/result")
    check_html(page.text)
    text = html.unescape(page.text)
    assert "<h2>Welcher Impfstoff?</h2>" in text
    # Free offers from today: the single dose completes the course soonest.
    assert (
        "Wir empfehlen Johnson & Johnson/Jcovden: Damit können Sie nach den freien Terminen "
        "von heute am frühesten vollständig geimpft sein, ab Montag, 12. Januar 2026."
    ) in text
    assert (
        "<strong>BioNTech/Comirnaty</strong>: zwei Impfungen, die zweite 3 bis 6 Wochen nach "
        "der ersten; freie Termine ab Montag, 12. Januar 2026"
    ) in text
    assert "<strong>Johnson & Johnson/Jcovden</strong>: nur eine Impfung" in text


async def test_in_english_the_advice_names_the_pick_too(portal: Portal) -> None:
    await portal.eligible("15.03.1962")  # 63: AstraZeneca and J&J
    page = await portal.get("/eligibility/result", lang="en")
    text = html.unescape(page.text)
    assert "We suggest Johnson & Johnson/Jcovden: with today's free appointments" in text
    assert "<strong>AstraZeneca/Vaxzevria</strong>: two doses, the second 9 to 12 weeks" in text
