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
- Each query is built once per channel with bound parameters: building a statement costs
  more than running it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, Select, Table, bindparam, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from kontingent.inventory.model import FreeSlot, day_bounds
from kontingent.schema import opened_days, slot_days, slots

if TYPE_CHECKING:  # the repository's feed reads use `free_seats`: no import cycle
    from kontingent.inventory.repository import Campaign

CHANNELS = (False, True)  # `phone`: the public's readings, the hotline's


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
    params = _family(centre_id, vaccine_code, first, last, now, persons)
    return await _by_ordinal(conn, _FIRST_DAYS[phone], {**params, "limit": limit})


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
    params = _family(centre_id, vaccine_code, first, last, now, at_least=1)
    return await _by_ordinal(conn, _DAY_SEATS[phone], params)


def _family(
    centre_id: int, vaccine_code: str, first: date, last: date, now: datetime, at_least: int
) -> dict[str, Any]:
    return {
        "centre_id": centre_id,
        "vaccine_code": vaccine_code,
        "first": first,
        "last": last,
        "now": now,
        "at_least": at_least,
    }


def _day_seats(phone: bool) -> Select[Any]:
    """(day, free seats) of the released days in [first, last] with at least `at_least`."""
    seats = func.sum(free_seats(slot_days, phone=phone))
    return (
        select(slot_days.c.day, seats)
        .where(
            slot_days.c.centre_id == bindparam("centre_id"),
            slot_days.c.vaccine_code == bindparam("vaccine_code"),
            slot_days.c.day >= bindparam("first"),
            slot_days.c.day <= bindparam("last"),
            slot_days.c.bookable_from <= bindparam("now"),
        )
        .group_by(slot_days.c.day)
        .having(seats >= bindparam("at_least"))
    )


_DAY_SEATS = {phone: _day_seats(phone) for phone in CHANNELS}
_FIRST_DAYS = {
    phone: query.order_by(slot_days.c.day).limit(bindparam("limit", type_=Integer))
    for phone, query in _DAY_SEATS.items()
}


def _first_days_of(phone: bool) -> Select[Any]:
    """`_FIRST_DAYS` for several centres at once: each centre's first `limit` days."""
    seats = func.sum(free_seats(slot_days, phone=phone))
    rank = func.row_number().over(partition_by=slot_days.c.centre_id, order_by=slot_days.c.day)
    ranked = (
        select(slot_days.c.centre_id, slot_days.c.day, seats.label("seats"), rank.label("rank"))
        .where(
            slot_days.c.centre_id.in_(bindparam("centre_ids", expanding=True)),
            slot_days.c.vaccine_code == bindparam("vaccine_code"),
            slot_days.c.day >= bindparam("first"),
            slot_days.c.day <= bindparam("last"),
            slot_days.c.bookable_from <= bindparam("now"),
        )
        .group_by(slot_days.c.centre_id, slot_days.c.day)
        .having(seats >= bindparam("at_least"))
        .subquery()
    )
    limit = bindparam("limit", type_=Integer)
    return select(ranked.c.centre_id, ranked.c.day, ranked.c.seats).where(ranked.c.rank <= limit)


_FIRST_DAYS_OF = {phone: _first_days_of(phone) for phone in CHANNELS}


async def first_free_days_of(
    conn: AsyncConnection,
    centre_ids: Sequence[int],
    vaccine_code: str,
    first: date,
    last: date,
    now: datetime,
    persons: int,
    limit: int,
    *,
    phone: bool = False,
) -> dict[int, dict[int, int]]:
    """`first_free_days` of several centres in one query: centre id -> its days. A centre
    with no such day is in the answer too, with none (one statement whatever the number of
    centres asked, each centre's rows bounded by `limit`)."""
    params = _family(0, vaccine_code, first, last, now, persons)
    del params["centre_id"]
    params |= {"centre_ids": list(centre_ids), "limit": limit}
    found: dict[int, dict[int, int]] = {c: {} for c in centre_ids}
    for centre_id, day, n in (await conn.execute(_FIRST_DAYS_OF[phone], params)).all():
        found[centre_id][day.toordinal()] = int(n)
    return found


async def _by_ordinal(
    conn: AsyncConnection, query: Select[Any], params: dict[str, Any]
) -> dict[int, int]:
    return {day.toordinal(): int(n) for day, n in (await conn.execute(query, params)).all()}


def _day_slots(phone: bool, part: int | None = None) -> Select[Any]:
    """The free slots of one day; `part` numbers the day among several read together
    (`days_slots`), with bounds of its own and its number as a column."""
    free = free_seats(slots, phone=phone)
    suffix = "" if part is None else f"_{part}"
    columns = [slots.c.id, slots.c.starts_at, free.label("free"), slots.c.bookable_from]
    if part is not None:
        columns.append(literal(part, Integer).label("part"))
    query = select(*columns).where(
        slots.c.centre_id == bindparam("centre_id"),
        slots.c.vaccine_code == bindparam("vaccine_code"),
        slots.c.starts_at >= bindparam("start" + suffix),
        slots.c.starts_at < bindparam("end" + suffix),
        slots.c.starts_at > bindparam("now"),
        slots.c.bookable_from <= bindparam("now"),
        free > 0,
    )
    return query if part is not None else query.order_by(slots.c.starts_at)


_DAY_SLOTS = {phone: _day_slots(phone) for phone in CHANNELS}
MAX_DAYS_TOGETHER = 3  # days whose slots one statement reads (`days_slots`)
# One statement per number of days and channel: a UNION ALL of one index range per day, so
# each part reads its day only, however far apart the days are.
_DAYS_SLOTS = {
    (n, phone): union_all(*(_day_slots(phone, i) for i in range(n))).order_by("starts_at")
    for n in range(2, MAX_DAYS_TOGETHER + 1)
    for phone in CHANNELS
}


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
    params = {
        "centre_id": centre_id,
        "vaccine_code": vaccine_code,
        "start": max(start, window.booking_from),
        "end": min(end, window.booking_until),
        "now": now,
    }
    return [
        (FreeSlot(r.id, r.starts_at, r.free), r.bookable_from)
        for r in (await conn.execute(_DAY_SLOTS[phone], params)).all()
    ]


async def days_slots(
    conn: AsyncConnection,
    centre_id: int,
    vaccine_code: str,
    days: Sequence[date],
    now: datetime,
    window: Campaign,
    *,
    phone: bool = False,
) -> list[list[tuple[FreeSlot, datetime]]]:
    """`day_slots` of each of `days` (at most MAX_DAYS_TOGETHER), in one statement: one
    round trip where a first dose's day and its second dose's day are read one after the
    other otherwise (each statement costs more than its rows on SQLite)."""
    if len(days) == 1:
        return [await day_slots(conn, centre_id, vaccine_code, days[0], now, window, phone=phone)]
    params: dict[str, Any] = {"centre_id": centre_id, "vaccine_code": vaccine_code, "now": now}
    for i, day in enumerate(days):
        start, end = day_bounds(day, day)
        params[f"start_{i}"] = max(start, window.booking_from)
        params[f"end_{i}"] = min(end, window.booking_until)
    found: list[list[tuple[FreeSlot, datetime]]] = [[] for _ in days]
    for r in (await conn.execute(_DAYS_SLOTS[len(days), phone], params)).all():
        found[r.part].append((FreeSlot(r.id, r.starts_at, r.free), r.bookable_from))
    return found


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
