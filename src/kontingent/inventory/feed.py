"""The public availability feed: free offers per centre and vaccine, from seats per day.

Invariants kept here:
- A build reads `slot_days` (seats per centre, vaccine and day, kept by triggers in every
  slot's transaction) and the slots of at most two days, never every slot, and only days
  within a horizon: first doses in the next FEED_DAYS days and their second-dose windows.
  Its cost follows centres x vaccines x that horizon, not the slots or days on file.
- Closed days (holidays not opened, closures.py) count no seats, as in the offers.
- Only vaccines that some open cohort may book appear, as in the offers.
- The ETag is a digest of what the feed says, not of when it was built: a rebuild that
  finds nothing changed keeps the ETag, so a notifier polling with If-None-Match gets 304.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial

import msgspec

from kontingent.db import Database
from kontingent.inventory import repository as repo
from kontingent.inventory.model import Centre, Vaccine, day_offers, local_day
from kontingent.inventory.repository import Catalogue

FEED_DAYS = 28  # free offers and seats count first doses in the next four weeks


@dataclass(frozen=True, slots=True)
class FeedRow:
    centre: Centre
    vaccine: Vaccine
    free_offers: int  # offers for one person that could all be booked at once (FEED_DAYS)
    free_seats: int  # on first-dose days within FEED_DAYS
    first_free_day: date | None  # within FEED_DAYS
    next_release_at: datetime | None
    # Offers per first-dose day within FEED_DAYS (days with none left out): the public page.
    offers_by_day: dict[date, int] = field(default_factory=dict, compare=False)


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


FreeByDay = dict[tuple[int, str], dict[int, int]]  # (centre, vaccine) -> day ordinal -> seats


async def free_by_day(
    db: Database, catalogue: Catalogue, now: datetime, horizon_days: int
) -> FreeByDay:
    """Public seats free per centre, vaccine and local day (ordinal), from today to
    `horizon_days` later, closed days left out: what the feed, the public page and the
    admins' dashboard count offers from (`count_day_offers`)."""
    async with db.read() as conn:
        if not db.has_driver:
            days = await repo.free_seats_by_day(conn, now, catalogue.campaign, horizon_days)
    if db.has_driver:
        days = await db.run_driver(
            partial(
                repo.free_seats_by_day_pg,
                now=now,
                window=catalogue.campaign,
                horizon_days=horizon_days,
            )
        )
    free: FreeByDay = {}
    closed = catalogue.closures.closed
    for centre_id, vaccine_code, day, seats in days:
        if closed(centre_id, day):
            continue
        by_day = free.setdefault((centre_id, vaccine_code), {})
        ordinal = day.toordinal()
        by_day[ordinal] = by_day.get(ordinal, 0) + seats
    return free


def offer_horizon(catalogue: Catalogue, first_days: int) -> int:
    """The days to read for offers whose first dose lies within `first_days` days: those and
    the longest second-dose window after the last of them."""
    longest = max((v.interval_max_days for v in catalogue.vaccines.values()), default=0)
    return first_days - 1 + longest


async def read_feed(
    db: Database, catalogue: Catalogue, now: datetime, is_open: Callable[[str], bool]
) -> FeedReading:
    """Every centre with every vaccine `is_open` says may be booked now."""
    async with db.read() as conn:
        releases = await repo.next_releases(conn, now)
    free = await free_by_day(db, catalogue, now, offer_horizon(catalogue, FEED_DAYS))
    last_first = local_day(now).toordinal() + FEED_DAYS - 1
    rows = [
        FeedRow(
            centre,
            vaccine,
            sum(offers.values()),
            sum(n for d, n in by_day.items() if d <= last_first),
            min((date.fromordinal(d) for d in by_day if d <= last_first), default=None),
            releases.get((centre.id, vaccine.code)),
            {date.fromordinal(d): n for d, n in sorted(offers.items())},
        )
        for centre in catalogue.centres.values()
        for vaccine in catalogue.vaccines.values()
        if is_open(vaccine.code)
        for by_day in [free.get((centre.id, vaccine.code), {})]
        for offers in [day_offers(by_day, vaccine, first_until=last_first)]
    ]
    return FeedReading(rows, _etag(rows))
