"""SQL for contingent releases. Repositories never commit.

Invariants kept here:
- `lock_centres` serialises releases of the same centres on PostgreSQL (FOR NO KEY UPDATE
  in ascending id order, which bookings' foreign-key locks on centres do not wait for), so
  two releases of one centre, vaccine and day cannot both pass the overlap check; SQLite's
  writers are serialised by BEGIN IMMEDIATE already.
- `claim_due` is the only way a release becomes `done`: a conditional UPDATE of scheduled
  releases whose minute has come, RETURNING exactly the rows this call changed, so two
  schedulers (or a scheduler and the request of a release "now") execute each one once.
- `cancel` removes only slots nobody booked, and a contingent only once none of its slots is
  left; the release and its per-centre rows stay as history.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.admin.releases_model import CentreHours, CentrePlan, ReleaseWish, Status
from kontingent.admin.releases_tables import release_centres, releases
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.closures import Closures
from kontingent.inventory.repository import load_closures
from kontingent.schema import (
    campaigns,
    centres,
    contingents,
    opening_hours,
    slots,
    vaccines,
)


@dataclass(frozen=True, slots=True)
class CentreCount:
    centre_id: int
    contingent_id: int | None
    slots: int
    seats: int
    phone_seats: int


@dataclass(frozen=True, slots=True)
class Release:
    id: int
    vaccine_code: str
    first_day: date
    last_day: date
    all_centres: bool
    release_at: datetime
    status: str
    phone_share_percent: int
    slots: int
    seats: int
    phone_seats: int
    created_at: datetime
    created_by: str
    executed_at: datetime | None
    cancelled_at: datetime | None
    cancelled_by: str | None
    centres: tuple[CentreCount, ...] = ()


@dataclass(frozen=True, slots=True)
class Overlap:
    centre_id: int
    contingent_id: int
    first_day: date
    last_day: date


async def campaign_window(conn: AsyncConnection) -> tuple[datetime, datetime] | None:
    query = select(campaigns.c.booking_from, campaigns.c.booking_until).order_by(campaigns.c.id)
    row = (await conn.execute(query)).first()
    return None if row is None else (row.booking_from, row.booking_until)


async def vaccine_exists(conn: AsyncConnection, code: str) -> bool:
    query = select(vaccines.c.code).where(vaccines.c.code == code)
    return (await conn.execute(query)).first() is not None


async def lock_centres(conn: AsyncConnection, ids: Sequence[int] | None) -> None:
    """Lock the centres (None: every centre) for this release's transaction (PostgreSQL)."""
    if conn.dialect.name != "postgresql":
        return
    query = select(centres.c.id).order_by(centres.c.id)
    if ids is not None:
        query = query.where(centres.c.id.in_(sorted(ids)))
    await conn.execute(query.with_for_update(key_share=True))


async def centre_hours(conn: AsyncConnection, ids: Sequence[int] | None) -> list[CentreHours]:
    """The centres asked for (None: every centre), in id order, with their opening hours."""
    query = select(centres.c.id, centres.c.name, centres.c.lanes, centres.c.slot_minutes)
    if ids is not None:
        query = query.where(centres.c.id.in_(ids))
    rows = (await conn.execute(query.order_by(centres.c.id))).all()
    hours: dict[int, dict[int, Any]] = {r.id: {} for r in rows}
    found = select(opening_hours).where(opening_hours.c.centre_id.in_(list(hours)))
    for h in (await conn.execute(found)).all():
        hours[h.centre_id][h.weekday] = (h.opens, h.closes)
    return [CentreHours(r.id, r.name, r.lanes, r.slot_minutes, hours[r.id]) for r in rows]


async def closures(conn: AsyncConnection) -> Closures:
    """Holidays opened and days closed by admins: a release makes no slots on a closed day."""
    return await load_closures(conn)


async def overlaps(
    conn: AsyncConnection, vaccine: str, centre_ids: Iterable[int], first: date, last: date
) -> list[Overlap]:
    """Contingents of the vaccine at those centres whose days meet first..last."""
    c = contingents.c
    query = (
        select(c.centre_id, c.id, c.first_day, c.last_day)
        .where(
            c.vaccine_code == vaccine,
            c.centre_id.in_(list(centre_ids)),
            c.first_day <= last,
            c.last_day >= first,
        )
        .order_by(c.centre_id, c.first_day)
    )
    return [Overlap(*r) for r in (await conn.execute(query)).all()]


async def add_release(
    conn: AsyncConnection,
    wish: ReleaseWish,
    at: datetime,
    percent: int,
    plans: Sequence[CentrePlan],
    by: tuple[str, int | None],
    now: datetime,
) -> int:
    """Record the release, and at each centre with slots its contingent and slots."""
    release_id: int = (
        await conn.execute(
            releases.insert()
            .values(
                vaccine_code=wish.vaccine, first_day=wish.first_day, last_day=wish.last_day,
                all_centres=wish.centre_ids is None, release_at=at, status=Status.scheduled,
                phone_share_percent=percent, slots=sum(p.slots for p in plans),
                seats=sum(p.seats for p in plans), phone_seats=sum(p.phone_seats for p in plans),
                created_at=now, created_by=by[0][:64], created_by_id=by[1],
            )
            .returning(releases.c.id)
        )
    ).scalar_one()  # fmt: skip
    rows = []
    for plan in plans:
        contingent_id = await _add_contingent(conn, wish, at, percent, plan, now)
        rows.append(
            {"release_id": release_id, "centre_id": plan.centre_id,
             "contingent_id": contingent_id, "slots": plan.slots, "seats": plan.seats,
             "phone_seats": plan.phone_seats}
        )  # fmt: skip
    await conn.execute(release_centres.insert(), rows)
    return release_id


async def _add_contingent(
    conn: AsyncConnection,
    wish: ReleaseWish,
    at: datetime,
    percent: int,
    plan: CentrePlan,
    now: datetime,
) -> int | None:
    if not plan.slots:
        return None  # closed on every day: no contingent that would block these days later
    contingent_id, _ = await inventory_repo.add_contingent(
        conn, centre_id=plan.centre_id, vaccine_code=wish.vaccine, first_day=wish.first_day,
        last_day=wish.last_day, release_at=at, now=now, phone_share_percent=percent,
    )  # fmt: skip
    await inventory_repo.insert_slots(
        conn,
        [
            {"centre_id": plan.centre_id, "vaccine_code": wish.vaccine, "starts_at": start,
             "capacity": plan.capacity, "booked": 0, "contingent_id": contingent_id,
             "bookable_from": at, "phone_reserved": reserved}
            for start, reserved in zip(plan.starts, plan.reserved, strict=True)
        ],
    )  # fmt: skip
    return contingent_id


async def due(conn: AsyncConnection, now: datetime, limit: int = 20) -> list[int]:
    """Scheduled releases whose minute has come (through `ix_releases_due`)."""
    query = (
        select(releases.c.id)
        .where(releases.c.status == Status.scheduled, releases.c.release_at <= now)
        .order_by(releases.c.release_at, releases.c.id)
        .limit(limit)
    )
    return list((await conn.execute(query)).scalars().all())


async def claim_due(conn: AsyncConnection, ids: Sequence[int], now: datetime) -> list[int]:
    """Mark those of `ids` done that are still scheduled and due; exactly the ids this call
    marked (another scheduler's claim, committed first, leaves them out)."""
    if not ids:
        return []
    claimed = await conn.execute(
        update(releases)
        .where(
            releases.c.id.in_(sorted(ids)),
            releases.c.status == Status.scheduled,
            releases.c.release_at <= now,
        )
        .values(status=Status.done, executed_at=now)
        .returning(releases.c.id)
    )
    return sorted(claimed.scalars().all())


async def mark_cancelled(conn: AsyncConnection, release_id: int, now: datetime, by: str) -> bool:
    """Cancel a scheduled release whose minute has not come; whether this call did."""
    found = await conn.execute(
        update(releases)
        .where(
            releases.c.id == release_id,
            releases.c.status == Status.scheduled,
            releases.c.release_at > now,
        )
        .values(status=Status.cancelled, cancelled_at=now, cancelled_by=by[:64])
        .returning(releases.c.id)
    )
    return found.first() is not None


async def remove_unbooked(conn: AsyncConnection, release_id: int) -> None:
    """Delete the release's slots nobody booked, and each contingent left without slots."""
    rc = release_centres.c
    ids = select(rc.contingent_id).where(rc.release_id == release_id, rc.contingent_id.is_not(None))
    made = list((await conn.execute(ids)).scalars().all())
    if not made:
        return
    await conn.execute(delete(slots).where(slots.c.contingent_id.in_(made), slots.c.booked == 0))
    kept = select(slots.c.contingent_id).where(slots.c.contingent_id.in_(made)).distinct()
    empty = sorted(set(made) - set((await conn.execute(kept)).scalars().all()))
    if empty:
        await conn.execute(
            update(release_centres)
            .where(rc.release_id == release_id, rc.contingent_id.in_(empty))
            .values(contingent_id=None)
        )
        await conn.execute(delete(contingents).where(contingents.c.id.in_(empty)))


async def pairs_of(conn: AsyncConnection, ids: Sequence[int]) -> list[tuple[int, str]]:
    """(centre, vaccine) of every centre where these releases made slots."""
    query = (
        select(release_centres.c.centre_id, releases.c.vaccine_code)
        .join(releases, releases.c.id == release_centres.c.release_id)
        .where(releases.c.id.in_(list(ids)), release_centres.c.slots > 0)
        .distinct()
    )
    return sorted((int(r[0]), str(r[1])) for r in (await conn.execute(query)).all())


def _release(row: Any, centre_rows: Sequence[Any] = ()) -> Release:
    r = row._mapping
    return Release(
        r["id"], r["vaccine_code"], r["first_day"], r["last_day"], r["all_centres"],
        r["release_at"], r["status"], r["phone_share_percent"], r["slots"], r["seats"],
        r["phone_seats"], r["created_at"], r["created_by"], r["executed_at"],
        r["cancelled_at"], r["cancelled_by"],
        tuple(CentreCount(c.centre_id, c.contingent_id, c.slots, c.seats, c.phone_seats)
              for c in centre_rows),
    )  # fmt: skip


async def release(conn: AsyncConnection, release_id: int) -> Release | None:
    row = (await conn.execute(select(releases).where(releases.c.id == release_id))).first()
    if row is None:
        return None
    query = (
        select(release_centres)
        .where(release_centres.c.release_id == release_id)
        .order_by(release_centres.c.centre_id)
    )
    return _release(row, (await conn.execute(query)).all())


async def history(
    conn: AsyncConnection, before: int | None = None, limit: int = 50
) -> tuple[list[Release], int | None]:
    """A page of releases, newest first by id, and the id to continue before (None: last)."""
    query = select(releases).order_by(releases.c.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(releases.c.id < before)
    rows = (await conn.execute(query)).all()
    per_release = await _centre_rows(conn, [r.id for r in rows[:limit]])
    page = [_release(r, per_release.get(r.id, [])) for r in rows[:limit]]
    return page, (page[-1].id if len(rows) > limit and page else None)


async def _centre_rows(conn: AsyncConnection, ids: Sequence[int]) -> dict[int, list[Any]]:
    """The per-centre rows of these releases, in centre order, by release id."""
    query = (
        select(release_centres)
        .where(release_centres.c.release_id.in_(list(ids)))
        .order_by(release_centres.c.release_id, release_centres.c.centre_id)
    )
    found: dict[int, list[Any]] = {}
    for row in (await conn.execute(query)).all():
        found.setdefault(row.release_id, []).append(row)
    return found


async def releases_between(
    conn: AsyncConnection, since: datetime, until: datetime
) -> list[Release]:
    """The releases (cancelled ones left out) whose minute lies in [since, until), in minute
    order: what the dashboard shows as "next release" and "released today"."""
    query = (
        select(releases)
        .where(
            and_(releases.c.release_at >= since, releases.c.release_at < until),
            releases.c.status != Status.cancelled,
        )
        .order_by(releases.c.release_at, releases.c.id)
    )
    return [_release(r) for r in (await conn.execute(query)).all()]
