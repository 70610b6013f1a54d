"""The week view's counts on SQLite and PostgreSQL (kontingent.inventory.week.read_week).

What these tests hold it to: each day's count is what the slots themselves allow (the first
dose's seats after the lead time, paired with the seats of its second-dose window); a day
booked out, or whose second doses are booked out, says so; a public holiday says closed until
an admin opens it; paging stays between this week and the horizon's; and a week is read with
one query of seats per day plus the lead time's day, however many slots are on file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import delete, event, func, select, update

from kontingent.app import Services
from kontingent.clock import BERLIN, FixedClock
from kontingent.inventory import days as day_repo
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.model import local_day
from kontingent.inventory.service import Inventory
from kontingent.inventory.week import HORIZON_DAYS, DayState, Week, monday_of, read_week
from kontingent.schema import opened_days, slots
from tests.support import BIELEFELD, T0

LEAD = timedelta(minutes=120)
GOOD_FRIDAY = date(2026, 4, 3)


async def week(services: Services, code: str, asked: date | None = None, persons: int = 1) -> Week:
    inventory = Inventory(services.db, services.clock, ttl_s=0, catalogue_ttl_s=0)
    catalogue = await inventory.catalogue()
    centre, vaccine = catalogue.centres[BIELEFELD], catalogue.vaccines[code]
    return await read_week(inventory, catalogue, centre, vaccine, asked, persons)


async def free_by_day(services: Services, code: str, first: date, last: date) -> dict[date, int]:
    """Free seats per day of bookable slots, summed here from the slots themselves."""
    now = services.clock.now()
    query = (
        select(slots.c.starts_at, (slots.c.capacity - slots.c.booked).label("free"))
        .where(
            slots.c.centre_id == BIELEFELD,
            slots.c.vaccine_code == code,
            slots.c.starts_at >= now + LEAD,
            slots.c.bookable_from <= now,
        )
        .order_by(slots.c.starts_at)
    )
    seats: dict[date, int] = {}
    async with services.db.read() as conn:
        for starts_at, free in (await conn.execute(query)).all():
            day = local_day(starts_at)
            if first <= day <= last:
                seats[day] = seats.get(day, 0) + int(free)
    return seats


async def book_out(services: Services, code: str, day: date) -> None:
    start = datetime.combine(day, time(0), BERLIN)
    async with services.db.write() as conn:
        await conn.execute(
            update(slots)
            .where(
                slots.c.centre_id == BIELEFELD,
                slots.c.vaccine_code == code,
                slots.c.starts_at >= start,
                slots.c.starts_at < start + timedelta(days=1),
            )
            .values(booked=slots.c.capacity)
        )


async def test_each_day_counts_the_pairs_its_slots_allow(services: Services) -> None:
    shown = await week(services, "BNT")
    assert shown.start == T0.date()  # T0 is a Monday
    last = shown.start + timedelta(days=6 + 42)
    seats = await free_by_day(services, "BNT", shown.start, last)
    for day in shown.days:
        window = sum(n for d, n in seats.items() if 21 <= (d - day.day).days <= 42)
        assert day.state is DayState.FREE, day
        assert day.free == min(seats[day.day], window), day
    # Today counts only what starts after the lead time: fewer than a whole day.
    assert shown.days[0].free < shown.days[1].free


async def test_a_booked_out_day_and_a_day_without_second_doses_say_booked_out(
    services: Services,
) -> None:
    tuesday, wednesday = T0.date() + timedelta(days=1), T0.date() + timedelta(days=2)
    await book_out(services, "BNT", tuesday)
    for offset in range(21, 43):  # every day Wednesday's second dose could fall on
        await book_out(services, "BNT", wednesday + timedelta(days=offset))
    days = {d.day: d for d in (await week(services, "BNT")).days}
    assert (days[tuesday].state, days[tuesday].free) == (DayState.FULL, 0)
    assert (days[wednesday].state, days[wednesday].free) == (DayState.FULL, 0)
    assert days[wednesday + timedelta(days=1)].state is DayState.FREE
    # The offers agree: nothing on those days.
    for day in (tuesday, wednesday):
        assert not (await services.inventory.offers(BIELEFELD, "BNT", day=day)).offers


async def test_today_says_too_soon_when_only_slots_within_the_lead_time_are_left(
    services: Services, clock: FixedClock
) -> None:
    clock.set(T0.replace(hour=18, minute=30))  # the last slots start 19:00 to 19:40
    today = (await week(services, "JNJ")).days[0]
    assert (today.state, today.free) == (DayState.TOO_SOON, 0)
    clock.set(T0.replace(hour=23, minute=0))  # the lead time ends tomorrow
    days = (await week(services, "JNJ")).days
    assert days[0].state is DayState.TOO_SOON
    assert days[1].state is DayState.FREE


@pytest.fixture
async def easter_week(services: Services, clock: FixedClock) -> AsyncIterator[date]:
    """The clock on the Monday before Easter 2026, with Johnson & Johnson slots that week (the
    seeded ones end sooner); the slots and any opened day are removed afterwards."""
    monday = date(2026, 3, 30)
    clock.set(datetime.combine(monday, time(7, 0), BERLIN))
    rows = [
        {
            "centre_id": BIELEFELD,
            "vaccine_code": "JNJ",
            "starts_at": datetime.combine(monday + timedelta(days=d), time(10, 0), BERLIN),
            "capacity": 4,
            "booked": 0,
            "bookable_from": T0,
        }
        for d in range(7)
    ]
    async with services.db.write() as conn:
        await inventory_repo.insert_slots(conn, rows)
    try:
        yield monday
    finally:
        async with services.db.write() as conn:
            await conn.execute(delete(opened_days))
            await conn.execute(
                delete(slots).where(
                    slots.c.vaccine_code == "JNJ", slots.c.starts_at >= rows[0]["starts_at"]
                )
            )


async def test_a_public_holiday_says_closed_until_an_admin_opens_it(
    services: Services, easter_week: date
) -> None:
    days = {d.day: d for d in (await week(services, "JNJ")).days}
    assert (days[GOOD_FRIDAY].state, days[GOOD_FRIDAY].free) == (DayState.CLOSED, 0)
    assert (days[date(2026, 4, 2)].state, days[date(2026, 4, 2)].free) == (DayState.FREE, 4)
    easter_monday = (await week(services, "JNJ", date(2026, 4, 6))).days[0]
    assert easter_monday.state is DayState.CLOSED
    async with services.db.write() as conn:
        await day_repo.open_day(conn, BIELEFELD, GOOD_FRIDAY, T0)
    days = {d.day: d for d in (await week(services, "JNJ")).days}
    assert (days[GOOD_FRIDAY].state, days[GOOD_FRIDAY].free) == (DayState.FREE, 4)


async def test_paging_goes_forward_to_the_horizon_and_never_back_before_today(
    services: Services,
) -> None:
    first = await week(services, "BNT")
    assert first.previous is None and first.next == T0.date() + timedelta(days=7)
    assert (await week(services, "BNT", T0.date() - timedelta(days=20))).start == first.start
    pages = [first]
    while pages[-1].next is not None:
        pages.append(await week(services, "BNT", pages[-1].next))
    horizon = T0.date() + timedelta(days=HORIZON_DAYS - 1)
    assert pages[-1].start == monday_of(horizon)
    assert [p.start for p in pages] == [first.start + timedelta(days=7 * i) for i in range(5)]
    assert all(p.previous == p.start - timedelta(days=7) for p in pages[1:])
    assert (await week(services, "BNT", horizon + timedelta(days=60))).start == pages[-1].start


async def test_a_week_reads_the_same_however_many_slots_are_on_file(
    services: Services,
) -> None:
    async def statements() -> tuple[int, int]:
        """Statements of reading this week and of reading the next, the catalogue read."""
        inventory = Inventory(services.db, services.clock, ttl_s=0, catalogue_ttl_s=60)
        catalogue = await inventory.catalogue()
        centre, vaccine = catalogue.centres[BIELEFELD], catalogue.vaccines["BNT"]
        counted = 0

        def count(*args: object) -> None:
            nonlocal counted
            counted += str(args[2]).lstrip().startswith("SELECT")  # not SQLite's BEGIN

        engine = services.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            this_week = await read_week(inventory, catalogue, centre, vaccine, None, 1)
            now = counted
            await read_week(inventory, catalogue, centre, vaccine, this_week.next, 1)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return now, counted - now

    before = await statements()
    async with services.db.read() as conn:
        template = (
            (
                await conn.execute(
                    select(slots).where(
                        slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == "BNT"
                    )
                )
            )
            .mappings()
            .all()
        )
    extra = [
        {**{k: v for k, v in r.items() if k not in ("id", "day")}, "starts_at": r["starts_at"]
         + timedelta(minutes=10)}
        for r in template
    ]  # fmt: skip
    async with services.db.write() as conn:
        newest = (await conn.execute(select(func.max(slots.c.id)))).scalar_one()
        await inventory_repo.insert_slots(conn, extra)
        total = (
            await conn.execute(
                select(func.count()).where(
                    slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == "BNT"
                )
            )
        ).scalar_one()
    try:
        assert total == 2 * len(template)
        assert await statements() == before
    finally:  # the PostgreSQL schema is shared by the run's tests: leave the slots as found
        async with services.db.write() as conn:
            await conn.execute(delete(slots).where(slots.c.id > newest))
    # The next release minute (read as the offers read it, the cache's TTL here being 0),
    # one read of seats per day, and this week (the lead time ends today) today's slots.
    assert before == (3, 2)
