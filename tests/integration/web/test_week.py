"""The offers page's week view through the app, on SQLite and PostgreSQL: days and parts as
links that keep the person's choice, the chosen day marked with aria-current, paging within
bounds, a booked-out day said so, and that day's offers only."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from html import unescape
from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import update

from kontingent.clock import BERLIN
from kontingent.schema import slots
from tests.integration.web.conftest import Portal, check_html
from tests.support import BIELEFELD, T0, phone

MONDAY = T0.date()  # T0 is a Monday morning
LINK = re.compile(r'<a href="(/choose\?[^"]+)"( aria-current="true")?>(.*?)</a>', re.S)


def links(html: str, css: str) -> list[tuple[str, bool, str]]:
    """(href, current, text) of the links inside the list of class `css`."""
    block = re.search(rf'<ul class="{css}">(.*?)</ul>', html, re.S)
    assert block, html
    return [
        (unescape(href), bool(current), " ".join(re.sub(r"<[^>]+>", " ", text).split()))
        for href, current, text in LINK.findall(block.group(1))
    ]


def day_items(html: str) -> list[str]:
    """Each day of the week as read: label and status, link or not."""
    block = re.search(r'<ul class="week-days">(.*?)</ul>', html, re.S)
    assert block, html
    items = re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", i).split()) for i in items]


def query(href: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(href).query))


def first_doses(html: str) -> list[datetime]:
    """The first-dose start of every offer on the page, from the offers' slot ids' labels."""
    found = re.findall(r"1\. Impfung: \w+, (\d+)\. (\w+) (\d{4}), (\d\d):(\d\d) Uhr", html)
    months = {"Januar": 1, "Februar": 2, "März": 3}
    return [
        datetime(int(y), months[m], int(d), int(h), int(mi), tzinfo=BERLIN)
        for d, m, y, h, mi in found
    ]


async def test_the_week_shows_each_day_with_what_is_free_and_links_keep_the_choice(
    portal: Portal,
) -> None:
    await portal.verified(phone(1))
    page = await portal.get("/choose", vaccine="MOD", persons="2")
    await portal.submit("/choose/partner", {"p1.birth_date": "17.09.1937"})
    page = await portal.get("/choose", vaccine="MOD", persons="2", centre=str(BIELEFELD))
    check_html(page.text)
    days = links(page.text, "week-days")
    assert [text.split(" ")[0:3] for _, _, text in days][:2] == [
        ["Mo.,", "12.", "Jan."],
        ["Di.,", "13.", "Jan."],
    ]
    assert all(re.search(r"\d+ frei$", text) for _, _, text in days), days
    for href, current, _ in days:
        assert not current
        assert query(href) == {
            "vaccine": "MOD",
            "persons": "2",
            "centre": str(BIELEFELD),
            "day": query(href)["day"],
        }
        assert href.endswith("#parts")
    paging = links(page.text, "week-paging")
    assert [text for _, _, text in paging] == ["Nächste Woche"]  # nothing before this week
    assert query(paging[0][0]) == {
        "vaccine": "MOD",
        "persons": "2",
        "centre": str(BIELEFELD),
        "week": "2026-01-19",
    }


async def test_a_chosen_day_shows_its_parts_and_only_its_offers(portal: Portal) -> None:
    await portal.verified(phone(2))
    wednesday = MONDAY + timedelta(days=2)
    page = await portal.get("/choose", vaccine="BNT", day=wednesday.isoformat())
    check_html(page.text)
    current = [(q, text) for q, c, text in links(page.text, "week-days") if c]
    assert len(current) == 1 and query(current[0][0])["day"] == "2026-01-14"
    assert "Termine am Mittwoch, 14. Januar 2026" in page.text
    starts = first_doses(page.text)
    assert len(starts) >= 8 and {s.date() for s in starts} == {wednesday}
    parts = links(page.text, "part-list")
    assert [re.sub(r" [\d.]+ frei$", "", text) for _, _, text in parts] == [
        "Ganzer Tag",
        "Vormittag (bis 12 Uhr)",
        "Nachmittag (12 bis 17 Uhr)",
        "Abend (ab 17 Uhr)",
    ]
    # Second doses are plentiful this far ahead: the parts share out the day's count.
    counts = [int(re.sub(r"\D", "", text.rsplit(" ", 2)[1])) for _, _, text in parts]
    assert counts[0] == sum(counts[1:]) > 0
    assert parts[0][1]  # the whole day is what is chosen
    page = await portal.get("/choose", **query(parts[3][0]))
    check_html(page.text)
    starts = first_doses(page.text)
    assert starts and all(s.date() == wednesday and s.hour >= 17 for s in starts), starts
    assert [c for _, c, _ in links(page.text, "part-list")] == [False, False, False, True]
    # The filter form keeps the day and part, so a new vaccine keeps them too.
    assert '<input type="hidden" name="day" value="2026-01-14">' in page.text
    assert '<input type="hidden" name="part" value="evening">' in page.text


async def test_a_booked_out_day_says_so_and_is_no_link(portal: Portal) -> None:
    await portal.verified(phone(3))
    tuesday = datetime.combine(MONDAY + timedelta(days=1), time(0), BERLIN)
    async with portal.services.db.write() as conn:
        await conn.execute(
            update(slots)
            .where(
                slots.c.centre_id == BIELEFELD,
                slots.c.vaccine_code == "BNT",
                slots.c.starts_at >= tuesday,
                slots.c.starts_at < tuesday + timedelta(days=1),
            )
            .values(booked=slots.c.capacity)
        )
    page = await portal.get("/choose", vaccine="BNT")
    assert day_items(page.text)[1] == "Di., 13. Jan. ausgebucht"
    assert "2026-01-13" not in page.text
    # Asked for anyway (an old link): the home centre says it has nothing, and what other
    # centres offer is on that day.
    page = await portal.get("/choose", vaccine="BNT", day="2026-01-13")
    home = page.text.split('<section class="centre"')[1]
    assert "Hier ist gerade kein Terminpaar frei." in home and not first_doses(home)
    assert all(s.date() == date(2026, 1, 13) for s in first_doses(page.text))
    assert '<nav class="parts"' not in page.text  # no parts to choose on a booked-out day


async def test_paging_forward_to_the_last_week_and_back(portal: Portal) -> None:
    await portal.verified(phone(4))
    page = await portal.get("/choose", vaccine="BNT")
    weeks = [MONDAY]
    while True:
        nexts = [h for h, _, t in links(page.text, "week-paging") if t == "Nächste Woche"]
        if not nexts:
            break
        weeks.append(date.fromisoformat(query(nexts[0])["week"]))
        page = await portal.get("/choose", **query(nexts[0]))
        check_html(page.text)
    assert weeks == [MONDAY + timedelta(days=7 * i) for i in range(5)]  # 31 days from today
    assert "Die frühesten Termine ab Montag, 9. Februar 2026" in page.text
    assert {s.date() for s in first_doses(page.text)} >= {date(2026, 2, 9)}
    assert min(first_doses(page.text)).date() >= date(2026, 2, 9)
    back = [h for h, _, t in links(page.text, "week-paging") if t == "Vorherige Woche"]
    assert query(back[0])["week"] == "2026-02-02"


async def test_a_day_that_cannot_be_chosen_is_dropped_with_a_notice(portal: Portal) -> None:
    await portal.verified(phone(5))
    for asked in ({"day": "2025-12-01"}, {"day": "morgen"}, {"day": "2026-01-14", "part": "x"}):
        page = await portal.get("/choose", vaccine="BNT", **asked)
        assert page.status_code == 200
        check_html(page.text)
        assert "Der gewünschte Tag kann hier nicht gewählt werden" in page.text
        assert 'aria-current="true"' not in page.text or "part" in asked


async def test_the_week_speaks_english(portal: Portal) -> None:
    await portal.verified(phone(6))
    page = await portal.get("/choose", vaccine="BNT", lang="en", day="2026-01-13")
    texts = [text for _, _, text in links(page.text, "week-days")]
    assert texts[1].startswith("Tue 13 Jan") and texts[1].endswith("free")
    assert "Choose a time of day on Tuesday, 13 January 2026" in page.text
