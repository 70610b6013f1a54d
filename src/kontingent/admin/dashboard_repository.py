"""SQL of the dashboard: cheap aggregates only, never a scan of slots or of all bookings.

Invariants kept here:
- Reads only; nothing here writes or commits.
- Bookings per minute read the last hour through `ix_bookings_created_at` (migration 0017)
  and come back grouped by minute and channel: at most 60 x channels rows, whatever the rush.
- The outbox figures read the pending rows through the partial index the relay claims with
  (`ix_outbox_pending`) and the parked ones through `ix_outbox_parked`.
- Seats still to be released today come from `slot_days` (a few rows per centre, vaccine and
  day), never from the slots.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin.dashboard_model import Outbox
from kontingent.db import aware_utc
from kontingent.inventory.days import free_seats
from kontingent.schema import bookings, outbox, slot_days


def _minute(conn: AsyncConnection) -> Any:
    """The booking's minute as the database groups it (both keep naive UTC)."""
    if conn.dialect.name == "postgresql":
        return func.date_trunc("minute", bookings.c.created_at)
    return func.strftime("%Y-%m-%d %H:%M:00", bookings.c.created_at)


async def bookings_by_minute(
    conn: AsyncConnection, since: datetime
) -> list[tuple[datetime, str, int]]:
    """(minute, channel, bookings made) since `since`, cancelled ones included: the
    dashboard shows the demand the booking path met."""
    minute = _minute(conn).label("minute")
    query = (
        select(minute, bookings.c.channel, func.count())
        .where(bookings.c.created_at >= since)
        .group_by(minute, bookings.c.channel)
    )
    found = []
    for at, channel, n in (await conn.execute(query)).all():
        when = aware_utc(at)
        if when is not None:
            found.append((when, str(channel), int(n)))
    return found


async def outbox_figures(conn: AsyncConnection, now: datetime, hour_ago: datetime) -> list[Outbox]:
    pending = and_(outbox.c.sent_at.is_(None), outbox.c.parked_at.is_(None))
    waiting = await conn.execute(
        select(
            outbox.c.channel,
            func.count(),
            func.min(outbox.c.created_at),
            func.count().filter(outbox.c.attempts > 0),
        )
        .where(pending)
        .group_by(outbox.c.channel)
    )
    parked = await conn.execute(
        select(outbox.c.channel, func.count(), func.count().filter(outbox.c.parked_at >= hour_ago))
        .where(outbox.c.parked_at.is_not(None))
        .group_by(outbox.c.channel)
    )
    by_channel = {str(c): (int(n), aware_utc(oldest), int(r)) for c, n, oldest, r in waiting}
    parked_by = {str(c): (int(n), int(h)) for c, n, h in parked}
    return [
        Outbox(channel, *by_channel.get(channel, (0, None, 0)), *parked_by.get(channel, (0, 0)))
        for channel in ("sms", "email")
    ]


async def seats_due(
    conn: AsyncConnection, now: datetime, until: datetime, first_day: date, last_day: date
) -> list[tuple[str, int]]:
    """(vaccine, public seats) of releases after `now` and up to `until`, on days between
    `first_day` and `last_day`: what is still to come today for those days."""
    query = (
        select(slot_days.c.vaccine_code, func.sum(free_seats(slot_days)))
        .where(
            slot_days.c.bookable_from > now,
            slot_days.c.bookable_from <= until,
            slot_days.c.day >= first_day,
            slot_days.c.day <= last_day,
        )
        .group_by(slot_days.c.vaccine_code)
    )
    return [(str(code), int(n or 0)) for code, n in (await conn.execute(query)).all()]
