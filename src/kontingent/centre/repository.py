"""SQL of the centre console: a centre's day, one appointment, the conditional updates that
record the day, and the day figures of the admin dashboard. The service owns the transaction.

Invariants kept here:
- Every read of a day goes through `slots.day` (index `ix_slots_day`) and then
  `appointments.slot_id` (its index): a day costs the day's rows, never a scan of all
  appointments; `day_figures` reads a range of days the same way.
- Every change is a conditional update on the status it expects (`WHERE status = 'booked'`
  ...), so two lanes recording the same person at once change them once; the ids that
  changed come back, and an empty answer means someone else was first.
- Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.centre.model import Visit
from kontingent.schema import appointments, bookings, persons, slots

a, b, p, s = appointments, bookings, persons, slots


def _visits() -> Select[Any]:
    return (
        select(
            a.c.id, a.c.booking_id, s.c.centre_id, s.c.starts_at, a.c.dose, b.c.code,
            p.c.first_name, p.c.last_name, p.c.birth_date, s.c.vaccine_code, a.c.status,
            a.c.batch,
        )
        .select_from(s)
        .join(a, a.c.slot_id == s.c.id)
        .join(b, b.c.id == a.c.booking_id)
        .join(p, and_(p.c.booking_id == a.c.booking_id, p.c.position == a.c.person_position))
    )  # fmt: skip


def _visit(r: Any) -> Visit:
    return Visit(
        r.id, r.booking_id, r.centre_id, r.starts_at, r.dose, r.code, r.first_name,
        r.last_name, r.birth_date, r.vaccine_code, r.status, r.batch,
    )  # fmt: skip


async def day(conn: AsyncConnection, centre_id: int, on: date) -> list[Visit]:
    """The centre's appointments of a day that are not cancelled, by start and name."""
    query = (
        _visits()
        .where(s.c.day == on, s.c.centre_id == centre_id, a.c.status != "cancelled")
        .order_by(s.c.starts_at, p.c.last_name, p.c.first_name, a.c.id)
    )
    return [_visit(r) for r in (await conn.execute(query)).all()]


async def visit(conn: AsyncConnection, appointment_id: int) -> Visit | None:
    row = (await conn.execute(_visits().where(a.c.id == appointment_id))).first()
    return None if row is None else _visit(row)


async def second_dose(conn: AsyncConnection, first: Visit) -> Visit | None:
    """The same person's booked second-dose appointment of the same booking, if any."""
    query = _visits().where(
        a.c.booking_id == first.booking_id,
        a.c.dose == 2,
        a.c.status == "booked",
        a.c.person_position
        == select(a.c.person_position).where(a.c.id == first.appointment_id).scalar_subquery(),
    )
    row = (await conn.execute(query)).first()
    return None if row is None else _visit(row)


async def vaccinate(
    conn: AsyncConnection, appointment_id: int, batch: str, by: int, now: datetime
) -> bool:
    """Booked or checked in → vaccinated (check-in time kept, or now); whether it changed."""
    done = await conn.execute(
        update(a)
        .where(a.c.id == appointment_id, a.c.status.in_(("booked", "checked_in")))
        .values(
            status="vaccinated", vaccinated_at=now, batch=batch, vaccinated_by=by,
            recorded_by=by, checked_in_at=func.coalesce(a.c.checked_in_at, now),
        )
        .returning(a.c.id)
    )  # fmt: skip
    return done.first() is not None


async def mark_no_shows(
    conn: AsyncConnection, appointment_ids: Sequence[int], by: int, now: datetime
) -> list[int]:
    """Booked → no-show; the ids that changed."""
    done = await conn.execute(
        update(a)
        .where(a.c.id.in_(appointment_ids), a.c.status == "booked")
        .values(status="no_show", no_show_at=now, recorded_by=by)
        .returning(a.c.id)
    )
    return sorted(done.scalars())


async def let_go(conn: AsyncConnection, appointment_id: int, by: int) -> int | None:
    """A booked appointment → cancelled (its booking stays); the slot whose seat it held."""
    done = await conn.execute(
        update(a)
        .where(a.c.id == appointment_id, a.c.status == "booked")
        .values(status="cancelled", recorded_by=by)
        .returning(a.c.slot_id)
    )
    slot_id = done.scalar()
    return None if slot_id is None else int(slot_id)


# --- the admin dashboard's counters -------------------------------------------------------


@dataclass(slots=True)
class DayFigures:
    """One centre's day: vaccinations by dose, and how many of those due did not come."""

    day: date
    centre_id: int
    vaccinated: dict[int, int] = field(default_factory=dict)  # dose -> people vaccinated
    due: int = 0  # appointments not cancelled
    no_show: int = 0

    @property
    def no_show_rate(self) -> float:
        """No-shows among the appointments due (0.0 for a day with none)."""
        return self.no_show / self.due if self.due else 0.0


async def day_figures(
    conn: AsyncConnection, first_day: date, last_day: date, centre_id: int | None = None
) -> list[DayFigures]:
    """Per day and centre in [first_day, last_day]: vaccinated per dose, due and no-shows; by
    day, then centre. Days without appointments are left out."""
    query = (
        select(s.c.day, s.c.centre_id, a.c.dose, a.c.status, func.count().label("n"))
        .select_from(s)
        .join(a, a.c.slot_id == s.c.id)
        .where(s.c.day >= first_day, s.c.day <= last_day, a.c.status != "cancelled")
        .group_by(s.c.day, s.c.centre_id, a.c.dose, a.c.status)
    )
    if centre_id is not None:
        query = query.where(s.c.centre_id == centre_id)
    figures: dict[tuple[date, int], DayFigures] = {}
    for r in (await conn.execute(query)).all():
        key = (r.day, r.centre_id)
        one = figures.setdefault(key, DayFigures(r.day, r.centre_id))
        one.due += r.n
        if r.status == "vaccinated":
            one.vaccinated[r.dose] = one.vaccinated.get(r.dose, 0) + r.n
        elif r.status == "no_show":
            one.no_show += r.n
    return [figures[k] for k in sorted(figures)]
