"""SQL for offers by day: free seats per day from `slot_days`, and the free slots of one day.
Repositories never commit.

Invariants kept here:
- Every query is bounded by what it is asked, never by what is on file: the first free days
  come from the primary key of `slot_days` (centre, vaccine, day, ...) as an index range with
  a LIMIT; seats over a range of days read at most that range; the slots of one day come from
  the unique index (centre, vaccine, starts_at) as the range of that day.
- "Free seats" is one expression, `free_seats`, used by every query here and by the feed:
  the seats held back for the phone channel (issue 15, `phone_reserved`) are subtracted in
  that one place, unless the reader is the phone channel (`phone=True`: agents see all).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, Table, func, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from kontingent.inventory.model import FreeSlot, day_bounds
from kontingent.schema import opened_days, slot_days, slots

if TYPE_CHECKING:  # the repository's feed reads use `free_seats`: no import cycle
    from kontingent.inventory.repository import Campaign


def free_seats(table: Table, *, phone: bool = False) -> ColumnElement[int]:
    """The seats of a slot (or of a day's slots in `slot_days`) that offers may show: to the
    phone channel every seat nobody holds, to everyone else those not reserved for it."""
    free = table.c.capacity - table.c.booked
    return free if phone else free - table.c.phone_reserved


async def first_free_days(
    conn: AsyncConnection,
    centre_id: int,
    vaccine_code: str,
    first: date,
    last: date,
    now: datetime,
    persons: int,
    limit: int,
    *,
    phone: bool = False,
) -> dict[int, int]:
    """Free seats of the first `limit` days in [first, last] that have room for `persons`
    (released by `now`), keyed by the day's ordinal. A day's seats include its slots that
    already began or lie outside the booking window: reading the day's slots tells."""
    query = _day_seats(centre_id, vaccine_code, first, last, now, persons, phone)
    return await _by_ordinal(conn, query.order_by(slot_days.c.day).limit(limit))


async def seats_by_day(
    conn: AsyncConnection,
    centre_id: int,
    vaccine_code: str,
    first: date,
    last: date,
    now: datetime,
    *,
    phone: bool = False,
) -> dict[int, int]:
    """Free seats of every day in [first, last] that has one, keyed by the day's ordinal."""
    query = _day_seats(centre_id, vaccine_code, first, last, now, 1, phone)
    return await _by_ordinal(conn, query)


def _day_seats(
    centre_id: int,
    vaccine_code: str,
    first: date,
    last: date,
    now: datetime,
    at_least: int,
    phone: bool,
) -> Select[Any]:
    """(day, free seats) of the released days in [first, last] with at least `at_least`."""
    seats = func.sum(free_seats(slot_days, phone=phone))
    return (
        select(slot_days.c.day, seats)
        .where(
            slot_days.c.centre_id == centre_id,
            slot_days.c.vaccine_code == vaccine_code,
            slot_days.c.day >= first,
            slot_days.c.day <= last,
            slot_days.c.bookable_from <= now,
        )
        .group_by(slot_days.c.day)
        .having(seats >= at_least)
    )


async def _by_ordinal(conn: AsyncConnection, query: Select[Any]) -> dict[int, int]:
    return {day.toordinal(): int(n) for day, n in (await conn.execute(query)).all()}


async def day_slots(
    conn: AsyncConnection,
    centre_id: int,
    vaccine_code: str,
    day: date,
    now: datetime,
    window: Campaign,
    *,
    phone: bool = False,
) -> list[tuple[FreeSlot, datetime]]:
    """The slots of one local day with a free seat that can be booked at `now`, in start
    order, each with its release minute."""
    start, end = day_bounds(day, day)
    free = free_seats(slots, phone=phone)
    query = (
        select(slots.c.id, slots.c.starts_at, free.label("free"), slots.c.bookable_from)
        .where(
            slots.c.centre_id == centre_id,
            slots.c.vaccine_code == vaccine_code,
            slots.c.starts_at >= max(start, window.booking_from),
            slots.c.starts_at < min(end, window.booking_until),
            slots.c.starts_at > now,
            slots.c.bookable_from <= now,
            free > 0,
        )
        .order_by(slots.c.starts_at)
    )
    return [
        (FreeSlot(r.id, r.starts_at, r.free), r.bookable_from)
        for r in (await conn.execute(query)).all()
    ]


async def open_day(conn: AsyncConnection, centre_id: int | None, day: date, now: datetime) -> bool:
    """Open `day` for one centre (or every centre): False when it was open already."""
    exists = select(opened_days.c.id).where(
        opened_days.c.day == day,
        opened_days.c.centre_id.is_(None)
        if centre_id is None
        else opened_days.c.centre_id == centre_id,
    )
    if (await conn.execute(exists)).first() is not None:
        return False
    await conn.execute(opened_days.insert().values(centre_id=centre_id, day=day, created_at=now))
    return True
