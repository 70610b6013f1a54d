"""SQL of the statistics and of the population import.

Invariants kept here:
- Reads count what is booked now: bookings with status `booked`, their persons (`active`)
  and their appointments that are not cancelled (booked, checked in, vaccinated or missed:
  each was an appointment booked); cancelled ones count nowhere.
- Free appointments are released seats nobody holds (phone-reserved ones included: they are
  free, for the hotline) on days from today on, read from `slot_days`, never from the slots.
- `replace_population` writes on the connection it is given and never commits: the import
  replaces the whole table in the caller's one transaction, or changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin.stats_model import AgeGroup
from kontingent.schema import appointments, bookings, centres, districts, persons, population
from kontingent.schema import slot_days as sd

BOOKED = bookings.c.status == "booked"


async def _grouped(conn: AsyncConnection, query: Select[Any]) -> dict[object, int]:
    return {key: int(n) for key, n in (await conn.execute(query)).all()}


async def bookings_by(conn: AsyncConnection, column: str) -> dict[object, int]:
    """Booked bookings counted per `channel` or `centre_id`."""
    key = bookings.c[column]
    return await _grouped(conn, select(key, func.count()).where(BOOKED).group_by(key))


async def persons_booked(conn: AsyncConnection) -> int:
    query = select(func.count()).select_from(persons).where(persons.c.active)
    return int((await conn.execute(query)).scalar_one())


async def appointments_by(conn: AsyncConnection, column: str) -> dict[object, int]:
    """Booked appointments counted per `dose`, `centre_id` or `vaccine_code` (of the booking)."""
    key = appointments.c.dose if column == "dose" else bookings.c[column]
    query = (
        select(key, func.count())
        .select_from(appointments.join(bookings, bookings.c.id == appointments.c.booking_id))
        .where(appointments.c.status != "cancelled", BOOKED)
        .group_by(key)
    )
    return await _grouped(conn, query)


async def free_by_centre(conn: AsyncConnection, today: date, now: datetime) -> dict[object, int]:
    free = func.sum(sd.c.capacity - sd.c.booked)
    query = (
        select(sd.c.centre_id, free)
        .where(sd.c.day >= today, sd.c.bookable_from <= now)
        .group_by(sd.c.centre_id)
    )
    return await _grouped(conn, query)


async def centre_names(conn: AsyncConnection) -> dict[int, str]:
    query = select(centres.c.id, centres.c.name).order_by(centres.c.id)
    return {int(i): str(n) for i, n in (await conn.execute(query)).all()}


async def persons_aged(conn: AsyncConnection, born_until: date, born_after: date | None) -> int:
    """Active persons born on or before `born_until` and (if given) after `born_after`."""
    query = (
        select(func.count())
        .select_from(persons)
        .where(persons.c.active, persons.c.birth_date <= born_until)
    )
    if born_after is not None:
        query = query.where(persons.c.birth_date > born_after)
    return int((await conn.execute(query)).scalar_one())


async def age_groups(conn: AsyncConnection) -> list[AgeGroup]:
    query = select(population.c.age_from, population.c.age_to, population.c.people)
    return [
        AgeGroup(int(a), None if b is None else int(b), int(n))
        for a, b, n in await conn.execute(query)
    ]


async def district_ids(conn: AsyncConnection) -> dict[str, int]:
    return {
        str(n): int(i) for i, n in (await conn.execute(select(districts.c.id, districts.c.name)))
    }


async def replace_population(conn: AsyncConnection, rows: Sequence[tuple[int, AgeGroup]]) -> None:
    await conn.execute(delete(population))
    if rows:
        await conn.execute(
            insert(population),
            [
                {"district_id": d, "age_from": g.age_from, "age_to": g.age_to, "people": g.people}
                for d, g in rows
            ],
        )
