"""SQL for the admin's centres: the centres, their hours and closed days, and the slots a
change makes follow. Repositories never commit.

Invariants kept here:
- The future slots a plan is made from are read locked (`FOR UPDATE`, ascending id: the
  order bookings lock slots in) in the transaction that applies the plan, so the plan is
  made from what is on file and no booking slips in between reading and writing.
- Every write keeps the CHECKs of `slots` whatever a plan says: a delete removes only a slot
  nobody booked and no appointment (cancelled or not) names; a resize never goes below
  the seats booked, and the phone reserve never above the seats free.
- `slot_days` follows every insert, update and delete here through its triggers
  (migrations 0005 and 0015), in this same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Integer, and_, bindparam, case, delete, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin.centres_model import Cover, Hours, SlotPlan, SlotRow
from kontingent.inventory.model import day_bounds
from kontingent.inventory.repository import insert_slots
from kontingent.schema import (
    appointments,
    bookings,
    centres,
    closed_days,
    contingents,
    districts,
    opening_hours,
    persons,
    postcodes,
    slots,
)


@dataclass(frozen=True, slots=True)
class DayBooking:
    """An active booking with an appointment at the centre on a given day."""

    code: str
    names: str
    phone: str
    starts: tuple[datetime, ...]
    language: str


async def centre_rows(conn: AsyncConnection, centre_id: int | None = None) -> list[Any]:
    query = (
        select(centres, districts.c.name.label("district"))
        .join(districts, districts.c.id == centres.c.district_id)
        .order_by(centres.c.id)
    )
    if centre_id is not None:
        query = query.where(centres.c.id == centre_id)
    return list((await conn.execute(query)).all())


async def hours_of(conn: AsyncConnection, centre_ids: Sequence[int]) -> dict[int, dict[int, Hours]]:
    query = select(opening_hours).where(opening_hours.c.centre_id.in_(centre_ids))
    found: dict[int, dict[int, Hours]] = {i: {} for i in centre_ids}
    for r in (await conn.execute(query)).all():
        found[r.centre_id][r.weekday] = Hours(r.opens, r.closes)
    return found


async def closures_of(conn: AsyncConnection, centre_id: int, first: date) -> list[Any]:
    query = (
        select(closed_days)
        .where(closed_days.c.centre_id == centre_id, closed_days.c.day >= first)
        .order_by(closed_days.c.day)
    )
    return list((await conn.execute(query)).all())


async def closed_set(conn: AsyncConnection, centre_id: int) -> frozenset[date]:
    query = select(closed_days.c.day).where(closed_days.c.centre_id == centre_id)
    return frozenset((await conn.execute(query)).scalars().all())


async def districts_of(conn: AsyncConnection, postcode: str) -> list[tuple[int, str]]:
    """(district id, places) of a postcode of the region, one per district it lies in."""
    query = (
        select(postcodes.c.district_id, postcodes.c.places)
        .where(postcodes.c.postcode == postcode)
        .order_by(postcodes.c.district_id)
    )
    return [(r.district_id, r.places) for r in (await conn.execute(query)).all()]


async def coordinates_in(conn: AsyncConnection, district_id: int) -> tuple[float, float] | None:
    """Where a centre of the district stands: a new centre without coordinates is placed
    there for the distances between centres."""
    query = select(centres.c.lat, centres.c.lon).where(centres.c.district_id == district_id)
    row = (await conn.execute(query.order_by(centres.c.id).limit(1))).first()
    return None if row is None else (row.lat, row.lon)


async def insert_centre(conn: AsyncConnection, values: Mapping[str, Any]) -> int:
    """The next id after the highest: the seeded centres carry their ids from the region's
    list, which PostgreSQL's sequence never saw. The table is locked against other writers
    (readers go on) so two admins adding a centre at once do not draw the same id."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("LOCK TABLE centres IN EXCLUSIVE MODE")
    next_id = (
        await conn.execute(select(func.coalesce(func.max(centres.c.id), 0) + 1))
    ).scalar_one()
    await conn.execute(insert(centres).values(id=next_id, **values))
    return int(next_id)


async def update_centre(conn: AsyncConnection, centre_id: int, values: Mapping[str, Any]) -> None:
    if values:
        await conn.execute(update(centres).where(centres.c.id == centre_id).values(**values))


async def replace_hours(conn: AsyncConnection, centre_id: int, hours: Mapping[int, Hours]) -> None:
    await conn.execute(delete(opening_hours).where(opening_hours.c.centre_id == centre_id))
    if hours:
        rows = [
            {"centre_id": centre_id, "weekday": d, "opens": h.opens, "closes": h.closes}
            for d, h in sorted(hours.items())
        ]
        await conn.execute(insert(opening_hours), rows)


async def future_slots(
    conn: AsyncConnection, centre_id: int, first_day: date, *, lock: bool = False
) -> list[SlotRow]:
    """The centre's slots from `first_day` on (local days), ascending id; locked with
    `lock` (PostgreSQL: FOR UPDATE in id order; SQLite's write transaction locks all)."""
    start, _ = day_bounds(first_day, first_day)
    query = (
        select(slots)
        .where(slots.c.centre_id == centre_id, slots.c.starts_at >= start)
        .order_by(slots.c.id)
    )
    if lock:
        query = query.with_for_update()
    return [
        SlotRow(
            r.id,
            r.vaccine_code,
            r.starts_at,
            r.capacity,
            r.booked,
            r.phone_reserved,
            r.contingent_id,
            r.bookable_from,
            _day(r.day),
        )
        for r in (await conn.execute(query)).all()
    ]


async def covers(conn: AsyncConnection, centre_id: int, first_day: date) -> list[Cover]:
    query = (
        select(contingents)
        .where(contingents.c.centre_id == centre_id, contingents.c.last_day >= first_day)
        .order_by(contingents.c.id)
    )
    return [
        Cover(r.id, r.vaccine_code, r.first_day, r.last_day, r.release_at, r.phone_share_percent)
        for r in (await conn.execute(query)).all()
    ]


_UNNAMED = ~exists().where(appointments.c.slot_id == slots.c.id)
_NEW_CAPACITY = case(
    (bindparam("cap", type_=Integer) < slots.c.booked, slots.c.booked),
    else_=bindparam("cap", type_=Integer),
)
_RESIZE = (
    update(slots)
    .where(slots.c.id == bindparam("slot_id"))
    .values(
        capacity=_NEW_CAPACITY,
        phone_reserved=case(
            (
                bindparam("kept", type_=Integer) > _NEW_CAPACITY - slots.c.booked,
                _NEW_CAPACITY - slots.c.booked,
            ),
            else_=bindparam("kept", type_=Integer),
        ),
    )
)


async def apply_plan(conn: AsyncConnection, centre_id: int, plan: SlotPlan) -> dict[str, int]:
    """Write a plan made from the slots this transaction locked; the counts it came to."""
    gone = plan.removed
    deleted: set[int] = set()
    if gone:
        found = await conn.execute(
            delete(slots)
            .where(slots.c.id.in_(gone), slots.c.booked == 0, _UNNAMED)
            .returning(slots.c.id)
        )
        deleted = set(found.scalars().all())
    # Slots an old (cancelled) appointment still names stay, with no seat to offer.
    closing = [i for i in gone if i not in deleted] + plan.kept
    if closing:
        await conn.execute(
            update(slots)
            .where(slots.c.id.in_(closing))
            .values(capacity=slots.c.booked, phone_reserved=0)
        )
    if plan.resized:
        params = [
            {"slot_id": r.id, "cap": r.capacity, "kept": r.phone_reserved} for r in plan.resized
        ]
        await conn.execute(_RESIZE, params)
    await insert_slots(conn, [_row(centre_id, n) for n in plan.added])
    return plan.counts


def _row(centre_id: int, slot: Any) -> dict[str, Any]:
    return {
        "centre_id": centre_id,
        "vaccine_code": slot.vaccine_code,
        "starts_at": slot.starts_at,
        "capacity": slot.capacity,
        "booked": 0,
        "contingent_id": slot.contingent_id,
        "bookable_from": slot.bookable_from,
        "phone_reserved": slot.phone_reserved,
    }


async def add_closed_day(
    conn: AsyncConnection, centre_id: int, day: date, reason: str, by: str, now: datetime
) -> bool:
    """Close the centre on `day`: False when it was closed already (the reason then stays)."""
    known = select(closed_days.c.id).where(
        closed_days.c.centre_id == centre_id, closed_days.c.day == day
    )
    if (await conn.execute(known)).first() is not None:
        return False
    await conn.execute(
        insert(closed_days).values(
            centre_id=centre_id, day=day, reason=reason, created_at=now, created_by=by[:64]
        )
    )
    return True


async def remove_closed_day(conn: AsyncConnection, centre_id: int, day: date) -> bool:
    found = await conn.execute(
        delete(closed_days)
        .where(closed_days.c.centre_id == centre_id, closed_days.c.day == day)
        .returning(closed_days.c.id)
    )
    return found.first() is not None


def _appointments_on(centre_id: int, day: date) -> Any:
    """The active appointments at the centre on `day`, with booking and person."""
    return (
        select(
            bookings.c.code,
            bookings.c.phone,
            bookings.c.language,
            slots.c.starts_at,
            persons.c.first_name,
            persons.c.last_name,
        )
        .select_from(
            appointments.join(slots, slots.c.id == appointments.c.slot_id)
            .join(bookings, bookings.c.id == appointments.c.booking_id)
            .join(
                persons,
                and_(
                    persons.c.booking_id == appointments.c.booking_id,
                    persons.c.position == appointments.c.person_position,
                ),
            )
        )
        .where(
            slots.c.centre_id == centre_id,
            slots.c.day == day,
            bookings.c.status == "booked",
            appointments.c.status == "booked",
        )
        .order_by(slots.c.starts_at, bookings.c.code, persons.c.position)
    )


async def bookings_on(conn: AsyncConnection, centre_id: int, day: date) -> list[DayBooking]:
    """The active bookings with an appointment at the centre on `day`, by first start."""
    found: dict[str, dict[str, Any]] = {}
    for r in (await conn.execute(_appointments_on(centre_id, day))).all():
        entry = found.setdefault(r.code, {"row": r, "names": {}, "starts": {}})
        entry["names"][f"{r.first_name} {r.last_name}"] = None  # dicts: ordered, distinct
        entry["starts"][r.starts_at] = None
    return [
        DayBooking(
            code, ", ".join(e["names"]), e["row"].phone, tuple(e["starts"]), e["row"].language
        )
        for code, e in found.items()
    ]


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
