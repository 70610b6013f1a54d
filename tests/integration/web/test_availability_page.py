"""The public availability page on SQLite and PostgreSQL: per centre and vaccine the free
pairs of the next days as the feed counts them, never the seats kept for the hotline, in
German and English, linked from the portal's footer; and the feed it reads keeps its ETag,
304 and public Cache-Control."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import update

from kontingent.app import Services
from kontingent.schema import slots
from tests.support import BIELEFELD

Client = AsyncTestClient[Litestar]
JNJ_ROW = re.compile(r'data-figure="pairs-1-JNJ">([\d.,]+)<')


async def jnj_pairs(client: Client) -> int:
    page = await client.get("/availability")
    assert page.status_code == 200, page.text
    found = JNJ_ROW.search(page.text)
    assert found, page.text[:3000]
    return int(found.group(1).replace(".", "").replace(",", ""))


async def test_the_page_shows_public_seats_only(client: Client, services: Services) -> None:
    before = await jnj_pairs(client)
    assert before > 0
    # Every free seat of Bielefeld's one-dose vaccine kept for the hotline: none public.
    async with services.db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == "JNJ")
            .values(phone_reserved=slots.c.capacity - slots.c.booked)
        )
    assert await jnj_pairs(client) == 0
    feed = (await client.get("/api/v1/availability")).json()
    assert [r["free_offers"] for r in feed if (r["centre_id"], r["vaccine"]) == (1, "JNJ")] == [0]


async def test_in_both_languages_and_linked_from_the_footer(client: Client) -> None:
    german = await client.get("/availability")
    assert "Freie Impftermine" in german.text and 'lang="de"' in german.text
    english = await client.get("/availability?lang=en")
    assert "Free vaccination appointments" in english.text
    start = await client.get("/")
    assert 'href="/availability"' in start.text


async def test_the_feed_answers_304_with_public_caching(client: Client) -> None:
    first = await client.get("/api/v1/availability")
    assert first.headers["cache-control"].startswith("public, max-age=")
    again = await client.get(
        "/api/v1/availability", headers={"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
