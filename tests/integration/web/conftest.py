"""Helpers for the portal's form tests: a client that keeps the CSRF token like a browser,
the steps of the journey, and row counts that prove bad input stored nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select

from kontingent.app import Services
from kontingent.config import Settings
from kontingent.schema import (
    appointments,
    bookings,
    outbox,
    persons,
    verifications,
    waitlist,
)
from tests.support import FormClient, person, read_pin

COUNTED = (verifications, bookings, persons, appointments, waitlist, outbox)


class Portal(FormClient):
    """The portal as a browser sees it (tests/support.py FormClient), with the journey's
    steps."""

    def __init__(self, client: AsyncTestClient[Litestar], services: Services) -> None:
        super().__init__(client)
        self.services = services

    async def submit(self, path: str, data: dict[str, str], csrf: str | None = "auto") -> Any:
        """POST a form as a browser does and follow its answer, which must be a redirect
        (303): no portal POST answers with a page. The page it leads to."""
        answer = await self.post(path, data, csrf)
        assert answer.status_code == 303, (answer.status_code, answer.text[:300])
        return await self.get(answer.headers["location"])

    async def eligible(self, birth_date: str = "01.05.1939", postcode: str = "33602") -> None:
        await self.get("/eligibility")
        answer = await self.post("/eligibility", {"birth_date": birth_date, "postcode": postcode})
        assert answer.status_code == 303, answer.text

    async def pin_sent(self, phone: str) -> None:
        await self.eligible()
        await self.get("/phone")
        answer = await self.post("/phone", {"phone": phone})
        assert answer.status_code == 303, answer.text
        await self.get("/pin")

    async def verified(self, phone: str) -> None:
        await self.pin_sent(phone)
        answer = await self.post("/pin", {"pin": await read_pin(self.services, phone)})
        assert answer.status_code == 303, answer.text

    async def offer(self, persons: int = 1, born2: str = "17.09.1937") -> str:
        if persons == 2:  # offers for two wait for the second person's birth date
            await self.get("/choose", persons=2)
            await self.submit("/choose/partner", {"p1.birth_date": born2})
        page = await self.get("/choose", persons=persons)
        found = re.search(r'name="offer" value="([0-9-]+)"', page.text)
        assert found, page.text
        return found.group(1)

    async def details(self, offer: str) -> dict[str, str]:
        """The hidden fields of the persons form for `offer`."""
        page = await self.get("/details", offer=offer)
        request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
        assert request_id, page.text
        return {"offer": offer, "request_id": request_id.group(1)}

    async def book(self, i: int = 0, persons: int = 1) -> tuple[str, dict[str, str]]:
        """Book an offer through the pages; the booking code and the form sent."""
        offer = await self.offer(persons)
        form = await self.details(offer)
        for p in range(persons):
            form.update(person_form(p, person(i + p)))
        answer = await self.post("/book", form)
        assert answer.status_code == 303, answer.text
        return answer.headers["location"].rsplit("/", 1)[-1], form


def person_form(index: int, data: dict[str, str]) -> dict[str, str]:
    return {f"p{index}.{k}": v for k, v in data.items()}


async def row_counts(services: Services) -> dict[str, int]:
    async with services.db.read() as conn:
        return {
            t.name: int((await conn.execute(select(func.count()).select_from(t))).scalar_one())
            for t in COUNTED
        }


def messages(html: str) -> list[str]:
    """The inline error messages of a page, as a person reads them."""
    found = re.findall(r'class="error-message"[^>]*>(.*?)</p>', html, flags=re.S)
    return [re.sub(r"<[^>]+>", "", m).replace("Fehler:", "").strip() for m in found]


@pytest.fixture
async def clean_waitlist(settings: Settings, services: Services) -> None:
    """The shared PostgreSQL schema is reset per test, but not (yet) the waitlist table."""
    async with services.db.write() as conn:
        await conn.execute(waitlist.delete())


@pytest.fixture
async def portal(
    client: AsyncTestClient[Litestar], services: Services, clean_waitlist: None
) -> AsyncIterator[Portal]:
    """The app runs in the test client's own event loop; `services` (this loop's engine) reads
    the database beside it, as a second process would."""
    yield Portal(client, services)


VOID = {"meta", "link", "input", "br", "img", "hr", "source", "wbr", "area", "col", "embed"}


class _Checker(HTMLParser):
    """Well-formedness and the accessibility wiring a page's markup must have."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: list[str] = []
        self.label_for: list[str] = []
        self.described: list[str] = []
        self.inputs: list[str] = []
        self.counts: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.counts[tag] = self.counts.get(tag, 0) + 1
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "label" and a.get("for"):
            self.label_for.append(str(a["for"]))
        if a.get("aria-describedby"):
            self.described += str(a["aria-describedby"]).split()
        if tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.inputs.append(str(a.get("id")))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:  # `<input ... />`
            return
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()


def check_html(html: str) -> None:
    assert html.startswith("<!doctype html>")
    checker = _Checker()
    checker.feed(html)
    checker.close()
    assert not checker.problems and not checker.stack, (checker.problems, checker.stack)
    duplicated = {i for i in checker.ids if checker.ids.count(i) > 1}
    assert not duplicated, duplicated
    ids = set(checker.ids)
    assert set(checker.label_for) <= ids, set(checker.label_for) - ids
    assert set(checker.described) <= ids, set(checker.described) - ids
    assert set(checker.inputs) <= set(checker.label_for), set(checker.inputs) - set(
        checker.label_for
    )
    assert checker.counts.get("h1") == 1 and checker.counts.get("main") == 1
    assert checker.counts.get("script", 0) == 0
