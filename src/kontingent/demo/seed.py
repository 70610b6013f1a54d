"""Demo data: the 27 Westfalen-Lippe centres with every postcode of their districts, three
two-dose vaccines and a one-dose one,
eight weeks of slots from opening hours and lanes, cohorts and released contingents, each
keeping the phone share (`DemoSize.phone_share_percent`, `kontingent seed --demo` passes
KONTINGENT_PHONE_SHARE_PERCENT) of its seats for the hotline.

Seeding is idempotent: a database that already has a campaign is left as it is.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.clock import BERLIN, Clock
from kontingent.config import DEFAULT_PHONE_SHARE_PERCENT
from kontingent.db import Database
from kontingent.eligibility.postcodes import served_rows
from kontingent.eligibility.repository import replace_postcodes
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.model import local_day, phone_reserve, slot_capacity, slot_starts
from kontingent.schema import (
    campaigns,
    centres,
    cohort_vaccines,
    cohorts,
    districts,
    opening_hours,
    regions,
    vaccines,
)

Progress = Callable[[str, int, int], None]  # (step, done, total)

VACCINES = [
    # code, name, doses, interval min, max, min age, max age, lanes per centre
    ("BNT", "BioNTech/Comirnaty", 2, 21, 42, 16, None, 6),
    ("MOD", "Moderna/Spikevax", 2, 28, 42, 18, None, 2),
    ("AZ", "AstraZeneca/Vaxzevria", 2, 63, 84, 18, None, 2),
    ("JNJ", "Johnson & Johnson/Jcovden", 1, 0, 0, 18, None, 1),
]
SLOT_MINUTES = 20
OPENS, CLOSES = time(8, 0), time(20, 0)
WEEKS = 8
RELEASED_DAYS = 42  # the first six weeks are released now, the rest at the next 08:00


@dataclass(frozen=True, slots=True)
class DemoSize:
    """How much to seed; tests use fewer centres and days than the demo."""

    weeks: int = WEEKS
    centres: int | None = None
    # The percentage of each contingent's seats kept for the phone channel (Settings'
    # default); the tests' shared data keeps none and their phone-share tests set their own.
    phone_share_percent: int = DEFAULT_PHONE_SHARE_PERCENT


def read_centres() -> list[dict[str, str]]:
    text = resources.files("kontingent.demo").joinpath("data/centres-westfalen-lippe.csv")
    with text.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


async def _has_campaign(conn: AsyncConnection) -> bool:
    return bool((await conn.execute(select(func.count()).select_from(campaigns))).scalar())


async def _reference(
    conn: AsyncConnection, rows: list[dict[str, str]], now: datetime, horizon_days: int
) -> None:
    region_id = (
        await conn.execute(insert(regions).values(name="Westfalen-Lippe").returning(regions.c.id))
    ).scalar_one()
    for i, row in enumerate(rows, start=1):
        await conn.execute(
            insert(districts).values(
                id=i, region_id=region_id, name=row["district"], kind=row["district_type"]
            )
        )
        await conn.execute(
            insert(centres).values(
                id=i,
                district_id=i,
                name=f"Impfzentrum {row['district']}",
                street=row.get("street", ""),
                postcode=row["postcode"],
                city=row["city"],
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                lanes=sum(v[7] for v in VACCINES),
                slot_minutes=SLOT_MINUTES,
            )
        )
        await conn.execute(
            insert(opening_hours),
            [{"centre_id": i, "weekday": d, "opens": OPENS, "closes": CLOSES} for d in range(7)],
        )
    # Every postcode of the seeded districts (all of Westfalen-Lippe in the full demo).
    seeded = {row["district"] for row in rows}
    await replace_postcodes(conn, [r for r in served_rows() if r.name in seeded])
    await conn.execute(
        insert(vaccines),
        [
            {
                "code": c,
                "name": n,
                "doses": d,
                "interval_min_days": lo,
                "interval_max_days": hi,
                "min_age": a,
                "max_age": b,
            }
            for c, n, d, lo, hi, a, b, _ in VACCINES
        ],
    )
    today = local_day(now)
    campaign_id = (
        await conn.execute(
            insert(campaigns)
            .values(
                name="COVID-19 Westfalen-Lippe",
                booking_from=now - timedelta(days=1),
                booking_until=datetime.combine(
                    today + timedelta(days=horizon_days), time(0), BERLIN
                ),
            )
            .returning(campaigns.c.id)
        )
    ).scalar_one()
    await _cohorts(conn, campaign_id, now, today)


async def _cohorts(conn: AsyncConnection, campaign_id: int, now: datetime, today: date) -> None:
    later = datetime.combine(today + timedelta(days=14), time(8, 0), BERLIN)
    for name, lo, hi, codes, opens in (
        ("80 Jahre und älter", 80, None, ["BNT", "MOD"], now - timedelta(days=1)),
        (
            "60 Jahre und älter (AstraZeneca, Johnson & Johnson)",
            60,
            None,
            ["AZ", "JNJ"],
            now - timedelta(days=1),
        ),
        ("70 bis 79 Jahre", 70, 79, ["BNT", "MOD"], later),
    ):
        cohort_id = (
            await conn.execute(
                insert(cohorts)
                .values(
                    campaign_id=campaign_id,
                    name=name,
                    min_age=lo,
                    max_age=hi,
                    opens_at=opens,
                    district_rule="region",
                )
                .returning(cohorts.c.id)
            )
        ).scalar_one()
        await conn.execute(
            insert(cohort_vaccines), [{"cohort_id": cohort_id, "vaccine_code": c} for c in codes]
        )


def _horizon(days: int, interval_max_days: int) -> int:
    """Slots run `days` for first doses and on for the latest second dose they may need."""
    return days + interval_max_days


def _slot_rows(
    centre_id: int,
    first_day: date,
    days: int,
    released: Mapping[tuple[str, date], tuple[int, datetime]],
) -> list[dict[str, Any]]:
    """The slots of one centre, each in the contingent `released` gives for its vaccine and
    day (none: not released)."""
    rows = []
    for code, _, _, _, hi, _, _, lanes in VACCINES:
        for offset in range(_horizon(days, hi)):
            day = first_day + timedelta(days=offset)
            contingent_id, release_at = released.get((code, day), (None, None))
            for start in slot_starts(day, OPENS, CLOSES, SLOT_MINUTES):
                rows.append(
                    {
                        "centre_id": centre_id,
                        "vaccine_code": code,
                        "starts_at": start,
                        "capacity": slot_capacity(lanes, SLOT_MINUTES),
                        "booked": 0,
                        "contingent_id": contingent_id,
                        "bookable_from": release_at,
                    }
                )
    return rows


def _keep_phone_share(rows: list[dict[str, Any]], percent: int) -> None:
    """Set each row's `phone_reserved`: the share of its contingent, spread over the
    contingent's slots in start order (`phone_reserve`) as when a contingent is recorded."""
    by_contingent: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if percent and row["contingent_id"] is not None:  # 0: the column's default
            by_contingent.setdefault(row["contingent_id"], []).append(row)
    for members in by_contingent.values():
        members.sort(key=lambda r: r["starts_at"])
        for row, n in zip(
            members, phone_reserve((r["capacity"] for r in members), percent), strict=True
        ):
            row["phone_reserved"] = n


def _releases(
    today: date, days: int, second_days: int, now: datetime
) -> list[tuple[date, date, datetime]]:
    """Released now, except the last two first-dose weeks, which open the next morning; the
    `second_days` after the first-dose weeks (where their second doses fall) released now.
    Later days of the campaign window get no contingent: an operator releases them
    (admin/releases_service.py)."""
    later = min(RELEASED_DAYS, days)
    next_morning = datetime.combine(today + timedelta(days=1), time(8, 0), BERLIN)
    released = now - timedelta(hours=1)
    plan = [(today, today + timedelta(days=later - 1), released)]
    if later < days:
        plan.append((today + timedelta(days=later), today + timedelta(days=days - 1), next_morning))
    if second_days:
        last = today + timedelta(days=days + second_days - 1)
        plan.append((today + timedelta(days=days), last, released))
    return plan


async def seed_demo(
    db: Database, clock: Clock, size: DemoSize = DemoSize(), progress: Progress | None = None
) -> bool:
    """Load the demo data into an empty database; False if it already had a campaign."""
    now = clock.now()
    rows = read_centres()[: size.centres]
    days = size.weeks * 7
    horizon = days + max(v[4] for v in VACCINES)  # room for the last first dose's second dose
    async with db.write() as conn:
        if await _has_campaign(conn):
            return False
        await _reference(conn, rows, now, horizon)
    today = local_day(now)
    for i in range(1, len(rows) + 1):
        async with db.write() as conn:
            # Contingents first, then their slots already attached: one bulk insert, where
            # attaching inserted slots afterwards would update every slot a second time.
            released: dict[tuple[str, date], tuple[int, datetime]] = {}
            for code, _, _, _, hi, *_ in VACCINES:
                for first, last, at in _releases(today, days, hi, now):
                    contingent_id, _ = await inventory_repo.add_contingent(
                        conn,
                        centre_id=i,
                        vaccine_code=code,
                        first_day=first,
                        last_day=last,
                        release_at=at,
                        now=now,
                        phone_share_percent=size.phone_share_percent,
                    )
                    for offset in range((last - first).days + 1):
                        released[(code, first + timedelta(days=offset))] = (contingent_id, at)
            slot_rows = _slot_rows(i, today, days, released)
            _keep_phone_share(slot_rows, size.phone_share_percent)
            await inventory_repo.insert_slots(conn, slot_rows)
        if progress is not None:
            progress("centres", i, len(rows))
    return True
