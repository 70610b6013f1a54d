"""The offers read answered in front of the framework.

In a rush `GET /api/v1/centres/{id}/offers` is the request everyone repeats, and for it
Litestar's routing, parameter parsing, dependency injection and response machinery cost more
than the answer: in process, 0.27 ms of CPU per read through the framework against 0.08 ms
answered here (bench/README.md, "Offer reads in front of the framework").

Invariants kept here:
- The answer is the route's answer: the same rate limit, the same service call, the same
  `offers_out` and the same status and headers (tests/integration/test_fast_reads.py compares
  both answers to the same requests).
- Only a plain request is answered here: GET on /api/v1/centres/<digits>/offers whose query
  names only the route's parameters, each at most once, with values the route accepts. Every
  other request, and every one the service or the rate limit refuses, is handed to the
  application unchanged, which answers it the documented way. A refusal counted by the rate
  limit here is counted again there: over the limit either way.
- An encoded body is kept per request while the service returns the very same list of offers
  of the very same centre and vaccine (the inventory keeps that list per set of readings and
  makes a new one when any changed), so an unchanged answer is not converted and encoded again.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from datetime import date, datetime
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Litestar
from litestar.types import ASGIApp, Receive, Send

from kontingent.edge.shortcuts import route_template, send_json
from kontingent.errors import KontingentError
from kontingent.inventory.model import Offer
from kontingent.inventory.routes import centre_offers, offers_out
from kontingent.inventory.service import Inventory, OffersView
from kontingent.ratelimit.service import RateLimits

_PATH = re.compile(r"/api/v1/centres/([1-9][0-9]{0,8})/offers")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PARTS = frozenset({"morning", "afternoon", "evening"})
_MAX_KEPT = 4096  # encoded answers kept; forgotten all at once beyond (each is a few KB)

# What a query asks for: (vaccine, persons, limit, day, part).
Wish = tuple[str, int, int, date | None, str | None]
Kept = tuple[object, object, list[Offer], datetime | None, bytes]


def wish_of(query: bytes) -> Wish | None:
    """The route's parameters from a query string, or None unless every name is the route's,
    none is repeated, and every value is one the route accepts."""
    try:
        pairs = parse_qsl(query.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    values = dict(pairs)
    if len(values) != len(pairs) or not values.keys() <= {
        "vaccine",
        "persons",
        "limit",
        "day",
        "part",
    }:
        return None
    vaccine = values.get("vaccine", "")
    persons, limit = values.get("persons", "1"), values.get("limit", "10")
    day, part = values.get("day"), values.get("part")
    if not 1 <= len(vaccine) <= 40 or persons not in ("1", "2") or not _small(limit, 50):
        return None
    if part is not None and part not in _PARTS:
        return None
    if day is None:
        return vaccine, int(persons), int(limit), None, part
    if not _DAY.fullmatch(day):  # the route reads ISO 8601's one form of a date only
        return None
    try:
        return vaccine, int(persons), int(limit), date.fromisoformat(day), part
    except ValueError:  # 2026-02-30
        return None


def _small(text: str, most: int) -> bool:
    return text.isdigit() and text.isascii() and len(text) <= 2 and 1 <= int(text) <= most


class OfferReads:
    """Answers offer reads (see the module doc); `answer` returns False to hand one on."""

    def __init__(self, inventory: Inventory, limits: RateLimits, template: str) -> None:
        self.inventory = inventory
        self.limits = limits
        self.template = template  # the route's name in the metrics
        self.encode = msgspec.json.Encoder().encode
        self._kept: dict[Hashable, Kept] = {}

    async def answer(self, scope: Any, send: Send) -> bool:
        found = _PATH.fullmatch(scope["path"])
        wish = wish_of(scope.get("query_string", b"")) if found else None
        if found is None or wish is None:
            return False
        centre_id = int(found.group(1))
        try:
            await self.limits.enforce(scope, "offers")
            vaccine, persons, limit, day, part = wish
            view = await self.inventory.offers(
                centre_id, vaccine, persons, limit, day=day, part=part
            )
        except KontingentError:
            return False
        scope["path_template"] = self.template
        await send_json(send, 200, self._body((centre_id, *wish), view))
        return True

    def _body(self, key: Hashable, view: OffersView) -> bytes:
        kept = self._kept.get(key)
        if (
            kept is not None
            and kept[0] is view.centre
            and kept[1] is view.vaccine
            and kept[2] is view.offers
            and kept[3] == view.next_release_at
        ):
            return kept[4]
        body = self.encode(offers_out(view))
        if view.offers:  # alternatives are only looked for when there are none
            if len(self._kept) >= _MAX_KEPT:
                self._kept.clear()
            self._kept[key] = (view.centre, view.vaccine, view.offers, view.next_release_at, body)
        return body


def answering_offer_reads(
    app: Litestar, handler: ASGIApp, inventory: Inventory, limits: RateLimits
) -> ASGIApp:
    """`handler` with plain offer reads answered before it (see the module doc)."""
    reads = OfferReads(inventory, limits, route_template(app, centre_offers))

    async def shortcut(scope: Any, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and await reads.answer(scope, send):
            return
        await handler(scope, receive, send)

    shortcut.__wrapped__ = handler  # type: ignore[attr-defined]  # the framework's way (tests)
    return shortcut
