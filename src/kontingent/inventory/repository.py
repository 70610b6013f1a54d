"""SQL for centres, vaccines, cohorts and slots. Repositories never commit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import String, bindparam, func, select, type_coerce, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from kontingent.booking.model import SlotInfo
from kontingent.db import aware_utc
from kontingent.eligibility.model import Cohort
from kontingent.eligibility.postcodes import Part
from kontingent.inventory.closures import Closures
from kontingent.inventory.days import free_seats
from kontingent.inventory.model import Centre, Vaccine, day_bounds, local_day, phone_reserve
from kontingent.schema import (
    campaigns,
    centres,
    closed_days,
    cohort_vaccines,
    cohorts,
    contingents,
    districts,
    opened_days,
    postcodes,
    slot_days,
    slots,
    vaccines,
)


@dataclass(frozen=True, slots=True)
class Campaign:
    id: int
    name: str
    booking_from: datetime
    booking_until: datetime


@dataclass(frozen=True, slots=True)
class Catalogue:
    """The reference data every request needs, read once and kept for a few seconds."""

    campaign: Campaign
    centres: dict[int, Centre]
    vaccines: dict[str, Vaccine]
    cohorts: list[Cohort]
    districts: dict[int, tuple[str, int]]  # id -> (name, region_id)
    # postcode -> its parts in the campaign's districts (several where it spans districts)
    postcodes: dict[str, tuple[Part, ...]] = field(repr=False)
    closures: Closures = field(default_factory=Closures)  # holidays opened, days closed


async def load_catalogue(conn: AsyncConnection) -> Catalogue:
    campaign_row = (await conn.execute(select(campaigns).order_by(campaigns.c.id))).first()
    if campaign_row is None:
        raise LookupError("no campaign configured: run `kontingent seed --demo` or set one up")
    district_rows = (await conn.execute(select(districts))).all()
    dist = {r.id: (r.name, r.region_id) for r in district_rows}
    centre_rows = (await conn.execute(select(centres).order_by(centres.c.id))).all()
    cohort_codes: dict[int, set[str]] = {}
    for r in (await conn.execute(select(cohort_vaccines))).all():
        cohort_codes.setdefault(r.cohort_id, set()).add(r.vaccine_code)
    cohort_rows = (
        await conn.execute(
            select(cohorts).where(cohorts.c.campaign_id == campaign_row.id).order_by(cohorts.c.id)
        )
    ).all()
    vaccine_rows = (await conn.execute(select(vaccines).order_by(vaccines.c.code))).all()
    postcode_rows = (
        await conn.execute(
            select(postcodes).order_by(postcodes.c.postcode, postcodes.c.district_id)
        )
    ).all()
    parts: dict[str, list[Part]] = {}
    for r in postcode_rows:
        part = Part(r.places, dist[r.district_id][0], r.district_id)
        parts.setdefault(r.postcode, []).append(part)
    return Catalogue(
        campaign=Campaign(
            campaign_row.id,
            campaign_row.name,
            campaign_row.booking_from,
            campaign_row.booking_until,
        ),
        centres={
            r.id: Centre(
                r.id,
                r.name,
                r.district_id,
                dist[r.district_id][0],
                dist[r.district_id][1],
                r.street,
                r.postcode,
                r.city,
                r.lat,
                r.lon,
                r.slot_minutes,
            )
            for r in centre_rows
        },
        vaccines={
            r.code: Vaccine(
                r.code,
                r.name,
                r.doses,
                r.interval_min_days,
                r.interval_max_days,
                r.min_age,
                r.max_age,
                r.interval_recommended_days,
            )
            for r in vaccine_rows
        },
        cohorts=[
            Cohort(
                r.id,
                r.name,
                r.min_age,
                r.max_age,
                frozenset(cohort_codes.get(r.id, ())),
                r.opens_at,
                r.district_rule,
            )
            for r in cohort_rows
        ],
        districts=dist,
        postcodes={code: tuple(found) for code, found in parts.items()},
        closures=await load_closures(conn),
    )


async def load_closures(conn: AsyncConnection) -> Closures:
    """The holidays admins opened and the days they closed (inventory/closures.py)."""
    opened_rows = (await conn.execute(select(opened_days.c.centre_id, opened_days.c.day))).all()
    shut = select(closed_days.c.centre_id, closed_days.c.day, closed_days.c.reason)
    closed_rows = (await conn.execute(shut)).all()
    return Closures.of(
        ((r.centre_id, r.day) for r in opened_rows),
        ((r.centre_id, r.day, r.reason) for r in closed_rows),
    )


def _bookable(now: datetime, until: datetime) -> list[ColumnElement[bool]]:
    """The conditions that make a slot bookable at `now`: released, in the future, in window."""
    return [
        slots.c.bookable_from <= now,
        slots.c.starts_at > now,
        slots.c.starts_at < until,
    ]


async def next_release(
    conn: AsyncConnection, centre_id: int, vaccine_code: str, now: datetime
) -> datetime | None:
    query = select(func.min(contingents.c.release_at)).where(
        contingents.c.centre_id == centre_id,
        contingents.c.vaccine_code == vaccine_code,
        contingents.c.release_at > now,
    )
    value: datetime | None = (await conn.execute(query)).scalar()
    return value


async def next_release_of(
    conn: AsyncConnection, centre_ids: Sequence[int], vaccine_code: str, now: datetime
) -> dict[int, datetime | None]:
    """`next_release` of several centres in one query; None for a centre with none ahead."""
    query = (
        select(contingents.c.centre_id, func.min(contingents.c.release_at))
        .where(
            contingents.c.centre_id.in_(centre_ids),
            contingents.c.vaccine_code == vaccine_code,
            contingents.c.release_at > now,
        )
        .group_by(contingents.c.centre_id)
    )
    found: dict[int, datetime | None] = dict.fromkeys(centre_ids)
    for centre_id, at in (await conn.execute(query)).all():
        found[centre_id] = aware_utc(at)
    return found


# Ids are 64-bit integers in both databases; a larger number from a request names no slot,
# and handing it to the driver would fail instead of finding nothing.
MAX_ID = 2**63 - 1


def storable(ids: Iterable[int]) -> list[int]:
    """The distinct ids that can exist in the database, in ascending order."""
    return sorted({i for i in ids if 0 < i <= MAX_ID})


async def seats_left(
    conn: AsyncConnection, ids: Iterable[int], now: datetime, window: Campaign
) -> dict[int, int]:
    """Seats left to everyone (the phone's reserve left out) per slot id; 0 for a slot that
    cannot be booked now."""
    wanted = storable(ids)
    query = select(slots.c.id, free_seats(slots)).where(
        slots.c.id.in_(wanted), *_bookable(now, window.booking_until)
    )
    left = {i: 0 for i in wanted}
    left.update((r[0], r[1]) for r in (await conn.execute(query)).all())
    return left


async def slot_infos(conn: AsyncConnection, ids: Iterable[int]) -> dict[int, SlotInfo]:
    """Centre, vaccine, start and release of the slots that exist among `ids`."""
    query = select(
        slots.c.id,
        slots.c.centre_id,
        slots.c.vaccine_code,
        slots.c.starts_at,
        slots.c.bookable_from,
    ).where(slots.c.id.in_(storable(ids)))
    return {
        r.id: SlotInfo(r.id, r.centre_id, r.vaccine_code, r.starts_at, r.bookable_from)
        for r in (await conn.execute(query)).all()
    }


SLOT_INFOS_PG = """
SELECT id, centre_id, vaccine_code, starts_at, bookable_from
FROM slots WHERE id = ANY($1::bigint[])
"""


async def slot_infos_pg(conn: asyncpg.Connection, ids: Iterable[int]) -> dict[int, SlotInfo]:
    """`slot_infos` on a plain asyncpg connection: the statement is prepared once per
    connection, where SQLAlchemy compiled its IN list anew for every booking whose slots
    were not in a recent availability reading."""
    return _infos(await conn.fetch(SLOT_INFOS_PG, storable(ids)))


# The same day (UTC) of the same centre and vaccine as each slot asked for: a range of the
# unique index (centre_id, vaccine_code, starts_at) per slot, a few dozen rows.
SLOT_INFOS_NEAR_PG = """
SELECT s.id, s.centre_id, s.vaccine_code, s.starts_at, s.bookable_from
FROM slots x JOIN slots s
  ON s.centre_id = x.centre_id AND s.vaccine_code = x.vaccine_code
 AND s.starts_at >= date_trunc('day', x.starts_at)
 AND s.starts_at < date_trunc('day', x.starts_at) + interval '1 day'
WHERE x.id = ANY($1::bigint[])
"""


async def slot_infos_near_pg(conn: asyncpg.Connection, ids: Iterable[int]) -> dict[int, SlotInfo]:
    """`slot_infos_pg` of `ids` and of the other slots on the same day of the same centre and
    vaccine: the next bookings there find what they check in memory (slot_facts.py)."""
    return _infos(await conn.fetch(SLOT_INFOS_NEAR_PG, storable(ids)))


def _infos(rows: Iterable[Any]) -> dict[int, SlotInfo]:
    return {
        r[0]: SlotInfo(r[0], r[1], r[2], r[3].replace(tzinfo=UTC), aware_utc(r[4])) for r in rows
    }


@dataclass(frozen=True, slots=True)
class SlotState:
    id: int
    centre_id: int
    vaccine_code: str
    starts_at: datetime
    capacity: int
    booked: int
    phone_reserved: int = 0  # seats kept for the hotline (issue 15)

    @property
    def public_capacity(self) -> int:
        """The seats open to everyone: what a public answer may call the slot's capacity.
        A phone booking takes from the reserve first, so it raises this and `booked` alike,
        and the public's free seats (this minus `booked`) stay what they were."""
        return self.capacity - self.phone_reserved


async def slot_state(conn: AsyncConnection, slot_id: int) -> SlotState | None:
    if not storable([slot_id]):
        return None
    query = select(
        slots.c.id,
        slots.c.centre_id,
        slots.c.vaccine_code,
        slots.c.starts_at,
        slots.c.capacity,
        slots.c.booked,
        slots.c.phone_reserved,
    ).where(slots.c.id == slot_id)
    row = (await conn.execute(query)).first()
    return None if row is None else SlotState(*row)


async def insert_slots(conn: AsyncConnection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert slots, each with the local day of its start (`slots.day`, which `slot_days`
    adds up by), worked out here so no caller can get it wrong."""
    if rows:
        await conn.execute(slots.insert(), [{**r, "day": local_day(r["starts_at"])} for r in rows])


async def add_contingent(
    conn: AsyncConnection,
    *,
    centre_id: int,
    vaccine_code: str,
    first_day: date,
    last_day: date,
    release_at: datetime,
    now: datetime,
    phone_share_percent: int = 0,
) -> tuple[int, int]:
    """Record a contingent and attach the free-standing slots of its days, each keeping its
    part of the phone share (`phone_reserve`, in start order); (id, slot count)."""
    contingent_id: int = (
        await conn.execute(
            contingents.insert()
            .values(
                centre_id=centre_id,
                vaccine_code=vaccine_code,
                first_day=first_day,
                last_day=last_day,
                release_at=release_at,
                created_at=now,
                # 0 is the column's default: left to it, so the demo seed also runs on a
                # schema from before 0015 (the migration tests seed one).
                **({"phone_share_percent": phone_share_percent} if phone_share_percent else {}),
            )
            .returning(contingents.c.id)
        )
    ).scalar_one()
    start, end = day_bounds(first_day, last_day)
    found = await conn.execute(
        select(slots.c.id, slots.c.capacity, slots.c.booked)
        .where(
            slots.c.centre_id == centre_id,
            slots.c.vaccine_code == vaccine_code,
            slots.c.starts_at >= start,
            slots.c.starts_at < end,
            slots.c.contingent_id.is_(None),
        )
        .order_by(slots.c.starts_at)
    )
    rows = found.all()
    reserved = phone_reserve((r.capacity for r in rows), phone_share_percent)
    if rows:
        attach = (
            update(slots)
            .where(slots.c.id == bindparam("slot_id"))
            .values(
                contingent_id=contingent_id,
                bookable_from=release_at,
                phone_reserved=bindparam("reserved"),
            )
        )
        await conn.execute(
            attach,
            [
                {"slot_id": r.id, "reserved": min(n, r.capacity - r.booked)}
                for r, n in zip(rows, reserved, strict=True)
            ],
        )
    return contingent_id, len(rows)


async def free_seats_by_day(
    conn: AsyncConnection, now: datetime, window: Campaign, horizon_days: int
) -> list[tuple[int, str, date, int]]:
    """(centre, vaccine, local day, seats free) of the bookable days with a free seat; a day
    may come in several rows (one per release minute), to be added up by the caller.

    Whole days come from `slot_days` (a few rows per centre and vaccine, kept by triggers).
    The first and the last day of what can be booked are partial (today's past slots, the
    edges of the booking window), so they are added up from their slots, found through
    `ix_slots_day`, under the same conditions a booking checks. Days past `horizon_days`
    from the first are not read: the cost follows the horizon, not the days on file.
    """
    first, last = _feed_days(now, window, horizon_days)
    start = max(now, window.booking_from)
    if first > last:
        return []
    # The day as the driver gives it (text on SQLite): parsed once per distinct day below,
    # where the column's own type would parse every row.
    raw_day = type_coerce(slot_days.c.day, String)
    whole = select(
        slot_days.c.centre_id,
        slot_days.c.vaccine_code,
        raw_day,
        free_seats(slot_days),
    ).where(
        slot_days.c.day > first,
        slot_days.c.day < last,
        slot_days.c.bookable_from <= now,
        free_seats(slot_days) > 0,
    )
    edges = (
        select(
            slots.c.centre_id,
            slots.c.vaccine_code,
            type_coerce(slots.c.day, String),
            func.sum(free_seats(slots)),
        )
        .where(
            slots.c.day.in_(sorted({first, last})),
            slots.c.starts_at >= start,
            free_seats(slots) > 0,
            *_bookable(now, window.booking_until),
        )
        .group_by(slots.c.centre_id, slots.c.vaccine_code, slots.c.day)
    )
    days: dict[object, date] = {}
    found = []
    for query in (whole, edges):
        for centre_id, vaccine_code, raw, seats in (await conn.execute(query)).all():
            day = days.get(raw)
            if day is None:
                day = days[raw] = raw if isinstance(raw, date) else date.fromisoformat(raw)
            found.append((centre_id, vaccine_code, day, int(seats)))
    return found


def _feed_days(now: datetime, window: Campaign, horizon_days: int) -> tuple[date, date]:
    first = local_day(max(now, window.booking_from))
    last = local_day(window.booking_until - timedelta(microseconds=1))
    return first, min(last, first + timedelta(days=horizon_days))


def _sql(expression: ColumnElement[Any]) -> str:
    return str(expression.compile(dialect=postgresql.dialect()))  # type: ignore[no-untyped-call]


# The public seats, as `free_seats` says (the phone's reserve left out), in plain SQL.
_DAY_FREE, _SLOT_FREE = _sql(free_seats(slot_days)), _sql(free_seats(slots))
FREE_SEATS_BY_DAY_PG = f"""
SELECT centre_id, vaccine_code, day, {_DAY_FREE} FROM slot_days
WHERE day > $1::date AND day < $2::date AND bookable_from <= $3::timestamp
  AND {_DAY_FREE} > 0
UNION ALL
SELECT centre_id, vaccine_code, day, sum({_SLOT_FREE})::int FROM slots
WHERE day = ANY(ARRAY[$1::date, $2::date]) AND starts_at >= $4::timestamp
  AND {_SLOT_FREE} > 0 AND bookable_from <= $3::timestamp AND starts_at > $3::timestamp
  AND starts_at < $5::timestamp
GROUP BY centre_id, vaccine_code, day
"""  # noqa: S608 (put together from this module's own expressions)


async def free_seats_by_day_pg(
    conn: asyncpg.Connection, now: datetime, window: Campaign, horizon_days: int
) -> list[tuple[int, str, date, int]]:
    """`free_seats_by_day` on a plain asyncpg connection, one round trip: through
    SQLAlchemy, turning its rows into tuples cost ten times what PostgreSQL took to find them
    (20 ms against 2 ms for the demo's 9,000 rows)."""
    start = max(now, window.booking_from)
    first, last = _feed_days(now, window, horizon_days)
    if first > last:
        return []
    naive = [t.astimezone(UTC).replace(tzinfo=None) for t in (now, start, window.booking_until)]
    rows = await conn.fetch(FREE_SEATS_BY_DAY_PG, first, last, *naive)
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def next_releases(conn: AsyncConnection, now: datetime) -> dict[tuple[int, str], datetime]:
    """The next release minute of every centre and vaccine that has one ahead."""
    query = (
        select(
            contingents.c.centre_id, contingents.c.vaccine_code, func.min(contingents.c.release_at)
        )
        .where(contingents.c.release_at > now)
        .group_by(contingents.c.centre_id, contingents.c.vaccine_code)
    )
    found = {}
    for centre_id, vaccine_code, at in (await conn.execute(query)).all():
        if (release := aware_utc(at)) is not None:
            found[(centre_id, vaccine_code)] = release
    return found
