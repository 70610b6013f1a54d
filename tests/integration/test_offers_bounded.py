"""Offers from bounded reads, on SQLite and PostgreSQL: they equal a brute-force reference
computed from every slot on file, for random layouts of free seats, chosen days and parts of
the day; a holiday is closed unless opened; and what a cold computation reads does not grow
when more slots are put on file."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from kontingent.app import Services
from kontingent.inventory import days as day_repo
from kontingent.inventory.closures import Closures
from kontingent.inventory.model import Offer, Vaccine, local_day
from kontingent.inventory.pairing import PARTS, minute_of_day
from kontingent.inventory.service import Inventory
from kontingent.schema import opened_days, slots
from tests.support import BIELEFELD, T0

LEAD = timedelta(minutes=120)


async def _all_free_slots(services: Services, vaccine: str, now: datetime) -> list[tuple]:
    """Every bookable slot with a seat, read the plain way: the reference's input."""
    catalogue = await services.inventory.catalogue()
    window = catalogue.campaign
    query = select(slots.c.id, slots.c.starts_at, slots.c.capacity - slots.c.booked).where(
        slots.c.centre_id == BIELEFELD,
        slots.c.vaccine_code == vaccine,
        slots.c.bookable_from <= now,
        slots.c.starts_at > now,
        slots.c.starts_at >= window.booking_from,
        slots.c.starts_at < window.booking_until,
        slots.c.booked < slots.c.capacity,
    )
    async with services.db.read() as conn:
        return sorted((await conn.execute(query)).all(), key=lambda r: r[1])


def _reference(
    rows: list[tuple],
    vaccine: Vaccine,
    persons: int,
    limit: int,
    earliest: datetime,
    day: date | None,
    part: str | None,
    closures: Closures,
) -> list[list[int]]:
    """Brute force over every slot: first doses in start order, each with the partner the
    rule picks (day nearest first + recommended, then the clock time nearest)."""
    closed = lambda d: closures.closed(BIELEFELD, d)  # noqa: E731
    usable = [r for r in rows if r[2] >= persons and not closed(local_day(r[1]))]
    lo, hi = PARTS[part] if part else (0, 24 * 60)
    found: list[list[int]] = []
    for first in usable:
        first_day = local_day(first[1])
        if first[1] < earliest or (day is not None and first_day != day):
            continue
        if not lo <= minute_of_day(first[1]) < hi:
            continue
        if vaccine.doses == 1:
            found.append([first[0]] * persons)
        else:
            aim = first_day.toordinal() + vaccine.recommended_days
            fits = [
                r
                for r in usable
                if r[1] > first[1]
                and vaccine.interval_min_days
                <= (local_day(r[1]) - first_day).days
                <= vaccine.interval_max_days
            ]
            if not fits:
                continue
            best = min(
                fits,
                key=lambda r: (
                    abs(local_day(r[1]).toordinal() - aim),
                    local_day(r[1]),
                    abs(minute_of_day(r[1]) - minute_of_day(first[1])),
                    r[1],
                ),
            )
            found.append([first[0]] * persons + [best[0]] * persons)
        if len(found) == limit:
            break
    return found


def _ids(offers: list[Offer]) -> list[list[int]]:
    return [o.slot_ids for o in offers]


async def _scatter(services: Services, vaccine: str, seed: int) -> None:
    """Book out a random share of the centre's slots and leave one seat in others."""
    rng = random.Random(seed)
    async with services.db.read() as conn:
        ids = (
            (
                await conn.execute(
                    select(slots.c.id).where(
                        slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == vaccine
                    )
                )
            )
            .scalars()
            .all()
        )
    full = [i for i in ids if rng.random() < 0.8]
    single = [i for i in ids if i not in set(full) and rng.random() < 0.3]
    async with services.db.write() as conn:
        for chosen, left in ((full, 0), (single, 1)):
            for start in range(0, len(chosen), 500):
                await conn.execute(
                    update(slots)
                    .where(slots.c.id.in_(chosen[start : start + 500]))
                    .values(booked=slots.c.capacity - left)
                )


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("kept", [False, True], ids=["uncached", "cold-cached"])
async def test_offers_equal_a_brute_force_reference_over_every_slot(
    services: Services, seed: int, kept: bool
) -> None:
    """`kept`: readings kept (as in production), each answer computed cold, so a first dose's
    day and its second dose's are read together (`prefetch`); else every read on its own."""
    await _scatter(services, "BNT", seed)
    await _scatter(services, "JNJ", seed)
    inventory = services.inventory
    catalogue = await inventory.catalogue()
    rng = random.Random(seed)
    earliest = inventory.earliest_start()
    for vaccine_code in ("BNT", "JNJ"):
        rows = await _all_free_slots(services, vaccine_code, T0)
        vaccine = catalogue.vaccines[vaccine_code]
        for _ in range(6):
            persons = rng.choice([1, 2])
            day = rng.choice([None, local_day(T0), local_day(T0) + timedelta(rng.randint(1, 20))])
            part = rng.choice([None, *PARTS])
            if kept:
                inventory = Inventory(services.db, services.clock, ttl_s=600)
            view = await inventory.offers(
                BIELEFELD, vaccine_code, persons, 15, day=day, part=part, alternatives=False
            )
            expected = _reference(
                rows, vaccine, persons, 15, earliest, day, part, catalogue.closures
            )
            assert _ids(view.offers) == expected, (vaccine_code, persons, day, part)


async def test_no_offer_starts_before_the_lead_time(services: Services) -> None:
    offers = (await services.inventory.offers(BIELEFELD, "BNT", limit=50)).offers
    assert offers
    assert min(o.appointments[0].starts_at for o in offers) >= T0 + LEAD
    assert min(o.appointments[0].starts_at for o in offers) < T0 + LEAD + timedelta(hours=1)


async def test_different_first_doses_get_second_doses_at_their_own_time_of_day(
    services: Services,
) -> None:
    offers = (await services.inventory.offers(BIELEFELD, "BNT", limit=6)).offers
    seconds = [o.appointments[-1].starts_at for o in offers]
    assert len(set(seconds)) == len(seconds)
    for offer in offers:
        first, second = offer.appointments[0].starts_at, offer.appointments[-1].starts_at
        assert minute_of_day(first) == minute_of_day(second)
        assert (local_day(second) - local_day(first)).days == 21  # BioNTech's recommendation


async def test_a_holiday_is_closed_unless_an_admin_opens_it(services: Services) -> None:
    """Good Friday 2026 (3 April) is a holiday in NRW: an AstraZeneca first dose on 30 January
    is due 63 days later, that very day; the second dose goes to the next open day instead,
    until an admin opens Good Friday."""
    good_friday, first_day = date(2026, 4, 3), date(2026, 1, 30)
    inventory = Inventory(services.db, services.clock, ttl_s=0, catalogue_ttl_s=0)

    async def second_days() -> set[date]:
        offers = (await inventory.offers(BIELEFELD, "AZ", day=first_day)).offers
        assert offers
        return {local_day(o.appointments[-1].starts_at) for o in offers}

    assert await second_days() == {date(2026, 4, 4)}
    try:
        async with services.db.write() as conn:
            assert await day_repo.open_day(conn, None, good_friday, T0)
            assert not await day_repo.open_day(conn, None, good_friday, T0)
        assert await second_days() == {good_friday}
    finally:
        async with services.db.write() as conn:
            await conn.execute(delete(opened_days))


async def _cold_reads(services: Services) -> tuple[int, int]:
    """(statements, rows held afterwards) of one cold computation of offers."""
    inventory = Inventory(services.db, services.clock, ttl_s=600)
    statements = 0

    def count(*_: object) -> None:
        nonlocal statements
        statements += 1

    from sqlalchemy import event

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await inventory.offers(BIELEFELD, "BNT", limit=10)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    held = sum(len(r.free) for _, r in inventory.availability_cache.items_since(600))
    held += sum(len(r.seats) for _, r in inventory.days_cache.items_since(600))
    return statements, held


async def test_a_cold_computation_reads_the_same_with_more_slots_on_file(
    services: Services,
) -> None:
    before = await _cold_reads(services)
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
    far, ten = T0 + timedelta(days=50), timedelta(minutes=10)
    extra = [
        {
            **{k: v for k, v in r.items() if k != "id"},
            "starts_at": r["starts_at"] + ten,
        }
        for r in template
        if r["starts_at"] >= far
    ]
    assert extra, "the test needs slots past day 50"
    async with services.db.write() as conn:
        await conn.execute(slots.insert(), extra)
    try:
        assert await _cold_reads(services) == before
    finally:
        async with services.db.write() as conn:
            await conn.execute(
                delete(slots).where(
                    slots.c.centre_id == BIELEFELD,
                    slots.c.vaccine_code == "BNT",
                    slots.c.starts_at >= far,
                    slots.c.id > max(r["id"] for r in template),
                )
            )


async def test_a_cold_computation_reads_a_first_dose_s_day_with_its_second_dose_s(
    services: Services,
) -> None:
    """Each statement costs more than its rows on SQLite (issue 13: cold offers under 5 ms):
    the slots of a first dose's day and of its second dose's day come in one statement."""
    from sqlalchemy import event

    inventory = Inventory(services.db, services.clock, ttl_s=600)
    await inventory.catalogue()
    texts: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        texts.append(statement)

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        view = await inventory.offers(BIELEFELD, "BNT", limit=10)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    first_days = {local_day(o.appointments[0].starts_at) for o in view.offers}
    second_days = {local_day(o.appointments[-1].starts_at) for o in view.offers}
    slot_reads = [t for t in texts if "FROM slots" in t]
    assert len(second_days) == len(first_days), "the demo pairs each first day with one day"
    assert len(slot_reads) == len(first_days)
    assert all("UNION ALL" in t for t in slot_reads)


async def test_a_cold_computation_takes_one_connection_for_all_its_reads(
    services: Services,
) -> None:
    """Taking a connection costs more than a small read (issue 13: the refresh's CPU)."""
    from sqlalchemy import event

    inventory = Inventory(services.db, services.clock, ttl_s=600)
    await inventory.catalogue()
    taken = 0

    def count(*_: object) -> None:
        nonlocal taken
        taken += 1

    pool = services.db.engine.sync_engine.pool
    event.listen(pool, "checkout", count)
    try:
        view = await inventory.offers(BIELEFELD, "BNT", limit=10)
        assert view.offers and taken == 1
        await inventory.offers(BIELEFELD, "BNT", limit=10)  # all cached: none taken
        assert taken == 1
    finally:
        event.remove(pool, "checkout", count)


async def test_cached_reads_outside_async_with_refuse_to_take_a_connection(
    services: Services,
) -> None:
    inventory = Inventory(services.db, services.clock, ttl_s=600)
    reads = inventory.reads(BIELEFELD, "BNT", await inventory.catalogue())
    with pytest.raises(RuntimeError, match="inside `async with`"):
        await reads.next_release()


@pytest.mark.parametrize("phone", [False, True], ids=["public", "phone"])
async def test_days_read_together_equal_each_day_read_alone(
    services: Services, phone: bool
) -> None:
    catalogue = await services.inventory.catalogue()
    today = local_day(T0)
    # today (some slots past), a later day, a day without slots, and the same day twice
    for days in ([today, today + timedelta(21)], [today + timedelta(3), date(2030, 1, 1)],
                 [today + timedelta(1), today + timedelta(1), today + timedelta(22)]):  # fmt: skip
        async with services.db.read() as conn:
            together = await day_repo.days_slots(
                conn, BIELEFELD, "BNT", days, T0, catalogue.campaign, phone=phone
            )
            alone = [
                await day_repo.day_slots(
                    conn, BIELEFELD, "BNT", day, T0, catalogue.campaign, phone=phone
                )
                for day in days
            ]
        assert together == alone, days
        assert any(together), "the demo has slots on these days"
