"""The public availability feed: free offers per centre and vaccine, from seats per day.

Invariants kept here:
- A build reads `slot_days` (seats per centre, vaccine and day, kept by triggers in every
  slot's transaction) and the slots of at most two days, never every slot: its cost follows
  centres x vaccines x days, not the number of slots or bookings on file.
- Only vaccines that some open cohort may book appear, as in the offers.
- The ETag is a digest of what the feed says, not of when it was built: a rebuild that
  finds nothing changed keeps the ETag, so a notifier polling with If-None-Match gets 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial

import msgspec

from kontingent.db import Database
from kontingent.inventory import repository as repo
from kontingent.inventory.model import Centre, Vaccine, count_day_offers
from kontingent.inventory.repository import Catalogue


@dataclass(frozen=True, slots=True)
class FeedRow:
    centre: Centre
    vaccine: Vaccine
    free_offers: int  # offers for one person that could all be booked at once
    free_seats: int
    first_free_day: date | None
    next_release_at: datetime | None


@dataclass(frozen=True, slots=True)
class FeedReading:
    rows: list[FeedRow]
    etag: str


def _etag(rows: list[FeedRow]) -> str:
    said = [
        (r.centre.id, r.vaccine.code, r.free_offers, r.free_seats, r.first_free_day,
         r.next_release_at)
        for r in rows
    ]  # fmt: skip
    return '"' + hashlib.blake2b(msgspec.json.encode(said), digest_size=12).hexdigest() + '"'


async def read_feed(
    db: Database, catalogue: Catalogue, now: datetime, is_open: Callable[[str], bool]
) -> FeedReading:
    """Every centre with every vaccine `is_open` says may be booked now."""
    async with db.read() as conn:
        releases = await repo.next_releases(conn, now)
        if not db.has_driver:
            days = await repo.free_seats_by_day(conn, now, catalogue.campaign)
    if db.has_driver:
        days = await db.run_driver(
            partial(repo.free_seats_by_day_pg, now=now, window=catalogue.campaign)
        )
    free: dict[tuple[int, str], dict[int, int]] = {}
    for centre_id, vaccine_code, day, seats in days:
        by_day = free.setdefault((centre_id, vaccine_code), {})
        ordinal = day.toordinal()
        by_day[ordinal] = by_day.get(ordinal, 0) + seats
    rows = [
        FeedRow(
            centre,
            vaccine,
            count_day_offers(by_day, vaccine),
            sum(by_day.values()),
            date.fromordinal(min(by_day)) if by_day else None,
            releases.get((centre.id, vaccine.code)),
        )
        for centre in catalogue.centres.values()
        for vaccine in catalogue.vaccines.values()
        if is_open(vaccine.code)
        for by_day in [free.get((centre.id, vaccine.code), {})]
    ]
    return FeedReading(rows, _etag(rows))
