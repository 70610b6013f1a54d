"""The public availability page: per centre, the free pairs of the next days per vaccine and
the next release, for curious people and notifier sites alike.

Invariants kept here:
- It reads the public feed (inventory/feed.py), built at most every `feed_ttl_s` seconds per
  process from seats per day: however many people reload it, the booking path and the
  slots are never read for it.
- It shows what the feed shows and nothing else: public seats only (never those kept for
  the hotline), only vaccines some open cohort may book, closed days left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Request, Response, get

from kontingent.inventory.feed import FeedRow
from kontingent.inventory.model import local_day
from kontingent.web.page import Portal

AnyRequest = Request[Any, Any, Any]
PAGE_DAYS = 7  # "the next days": a week of first doses


@dataclass(frozen=True, slots=True)
class VaccineLine:
    code: str
    vaccine: str
    pairs: int  # offers with a first dose within PAGE_DAYS
    first_day: date | None
    next_release_at: datetime | None


@dataclass(frozen=True, slots=True)
class CentreBlock:
    id: int
    name: str
    city: str
    lines: list[VaccineLine]


def blocks(rows: Sequence[FeedRow], today: date) -> list[CentreBlock]:
    last = today + timedelta(days=PAGE_DAYS - 1)
    by_centre: dict[int, CentreBlock] = {}
    for r in rows:
        days = {d: n for d, n in r.offers_by_day.items() if d <= last}
        block = by_centre.setdefault(
            r.centre.id, CentreBlock(r.centre.id, r.centre.name, r.centre.city, [])
        )
        block.lines.append(
            VaccineLine(r.vaccine.code, r.vaccine.name, sum(days.values()), min(days, default=None),
                        r.next_release_at)
        )  # fmt: skip
    return sorted(by_centre.values(), key=lambda b: b.name)


@get("/availability")
async def availability_page(request: AnyRequest) -> Response[Any]:
    portal = Portal(request)
    reading = await portal.services.inventory.feed()
    return portal.render(
        "availability.html",
        title=portal.t("availability.title"),
        centres=blocks(reading.rows, local_day(portal.now)),
        days=PAGE_DAYS,
        ttl_s=max(1, round(portal.settings.feed_ttl_s)),
    )


routes = [availability_page]
