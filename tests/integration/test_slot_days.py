"""`slot_days` and the public feed built from it, on SQLite and PostgreSQL.

What these tests hold the service to: whatever writes slots (the booking statement, the
step-by-step path, cancelling, rebooking, a release, new or deleted slots, a hand-made
UPDATE, the phone share's reserve, a phone booking taking it and its release), the seats per
centre, vaccine, day and release in `slot_days` equal the sums over the slots themselves;
and the feed's free seats equal what a booking could take now, today's past slots and
unreleased ones left out.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from kontingent.app import Services
from kontingent.clock import FixedClock
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.feed import FEED_DAYS
from kontingent.inventory.phone_share import release_phone_seats
from kontingent.schema import slot_days, slots
from tests.support import T0, claims_for, fill_centre, person, phone, unreleased

BIELEFELD, BOCHUM = 1, 2


Sums = dict[tuple[Any, ...], tuple[int, int, int]]  # key -> capacity, booked, reserved


async def sums_over_slots(db: Any) -> Sums:
    key = (slots.c.centre_id, slots.c.vaccine_code, slots.c.day, slots.c.bookable_from)
    sums = [func.sum(c) for c in (slots.c.capacity, slots.c.booked, slots.c.phone_reserved)]
    query = select(*key, *sums).where(slots.c.bookable_from.is_not(None)).group_by(*key)
    async with db.read() as conn:
        return {
            tuple(r[:4]): (int(r[4]), int(r[5]), int(r[6]))
            for r in (await conn.execute(query)).all()
        }


async def kept_sums(db: Any) -> Sums:
    async with db.read() as conn:
        rows = (await conn.execute(select(slot_days))).all()
    return {
        (r.centre_id, r.vaccine_code, r.day, r.bookable_from): (
            r.capacity, r.booked, r.phone_reserved
        )
        for r in rows
        if (r.capacity, r.booked, r.phone_reserved) != (0, 0, 0)  # its slots moved elsewhere
    }  # fmt: skip


async def assert_kept(db: Any) -> None:
    assert await kept_sums(db) == await sums_over_slots(db)


async def test_hardening_5_slot_days_follow_every_kind_of_slot_change(
    services: Services, clock: FixedClock
) -> None:
    """The feed's aggregates never drift from the slots, whatever path changed them."""
    db = services.db
    await assert_kept(db)
    offer = (await services.inventory.offers(BIELEFELD, "BNT", persons=2, limit=3)).offers
    claims = await claims_for(services, phone(0))
    booked = await services.booking.book(
        claims, [person(0), person(1)], offer[0].slot_ids, idempotency_key="k1"
    )
    await assert_kept(db)
    born = person(0)["birth_date"]
    await services.booking.rebook(booked.code, born, offer[1].slot_ids)
    await assert_kept(db)
    await services.booking.cancel(booked.code, born)
    await assert_kept(db)
    await fill_centre(db, BOCHUM, "AZ")
    await assert_kept(db)
    async with unreleased(db, BOCHUM, "MOD", T0 + timedelta(hours=1)):
        await assert_kept(db)
    await assert_kept(db)
    async with db.write() as conn:
        await inventory_repo.insert_slots(
            conn,
            [{"centre_id": BIELEFELD, "vaccine_code": "JNJ", "starts_at": T0 + timedelta(
                days=3, minutes=7), "capacity": 4, "booked": 1,
              "bookable_from": T0 - timedelta(hours=1)}],
        )  # fmt: skip
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == BIELEFELD, slots.c.vaccine_code == "AZ")
            .values(capacity=slots.c.capacity + 1)
        )
        await conn.execute(
            delete(slots).where(
                slots.c.centre_id == BIELEFELD,
                slots.c.vaccine_code == "JNJ",
                slots.c.booked == 1,
            )
        )
    await assert_kept(db)
    # The phone share: reserves set, a phone booking taking one, the release job.
    async with db.write() as conn:
        await conn.execute(
            update(slots).where(slots.c.id.in_(offer[2].slot_ids)).values(phone_reserved=1)
        )
    await assert_kept(db)
    on_phone = await services.booking.book(
        await claims_for(services, phone(1)),
        [person(2), person(3)],
        offer[2].slot_ids,
        channel="phone",
    )
    await assert_kept(db)
    await services.booking.cancel(on_phone.code, person(2)["birth_date"])
    async with db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.centre_id == BOCHUM, slots.c.booked < slots.c.capacity)
            .values(phone_reserved=1)
        )
    await assert_kept(db)
    await release_phone_seats(db, services.inventory, clock.now(), timedelta(days=9), batch=100)
    await assert_kept(db)


async def test_hardening_5_the_feed_counts_what_a_booking_could_take_now(
    services: Services, clock: FixedClock
) -> None:
    """Today's past slots, unreleased slots and full slots are not counted as free; seats count
    on first-dose days within the feed's horizon (FEED_DAYS)."""
    clock.advance(timedelta(hours=3))  # midday: the morning's slots are past
    now = clock.now()
    async with unreleased(services.db, BOCHUM, "MOD", now + timedelta(days=1)) as _:
        await fill_centre(services.db, BIELEFELD, "AZ")
        catalogue = await services.inventory.catalogue()
        free = (slots.c.capacity - slots.c.booked).label("free")
        query = (
            select(slots.c.centre_id, slots.c.vaccine_code, func.sum(free), func.min(slots.c.day))
            .where(
                slots.c.bookable_from <= now,
                slots.c.starts_at > now,
                slots.c.starts_at < catalogue.campaign.booking_until,
                slots.c.booked < slots.c.capacity,
                slots.c.day < now.date() + timedelta(days=FEED_DAYS),
            )
            .group_by(slots.c.centre_id, slots.c.vaccine_code)
        )
        async with services.db.read() as conn:
            expected = {(r[0], r[1]): (int(r[2]), r[3]) for r in (await conn.execute(query)).all()}
        feed = {
            (r.centre.id, r.vaccine.code): (r.free_seats, r.first_free_day)
            for r in (await services.inventory.feed()).rows
            if r.free_seats
        }
        assert feed == expected
        assert (BOCHUM, "MOD") not in feed and (BIELEFELD, "AZ") not in feed
        assert feed[(BIELEFELD, "BNT")][1] == now.date()  # this afternoon still has seats


async def test_a_slot_without_its_day_is_refused(services: Services) -> None:
    async with services.db.write() as conn:
        row = (await conn.execute(select(slots).limit(1))).mappings().one()
    values = {**row, "id": None, "day": None, "starts_at": row["starts_at"] + timedelta(seconds=1)}
    values.pop("id")
    try:
        async with services.db.write() as conn:
            await conn.execute(slots.insert().values(values))
    except Exception as exc:  # IntegrityError on PostgreSQL, the trigger's abort on SQLite
        assert "day" in str(exc)
    else:
        raise AssertionError("a slot without its day was stored")


async def test_both_reads_of_free_seats_agree_on_postgresql(
    services: Services, clock: FixedClock
) -> None:
    if not services.db.has_driver:
        pytest.skip("the plain asyncpg read exists on PostgreSQL only")
    clock.advance(timedelta(hours=3))
    await fill_centre(services.db, BIELEFELD, "AZ")
    catalogue = await services.inventory.catalogue()
    now, window = clock.now(), catalogue.campaign
    async with services.db.read() as conn:
        through_sqlalchemy = await inventory_repo.free_seats_by_day(conn, now, window, 400)
    through_driver = await services.db.run_driver(
        partial(inventory_repo.free_seats_by_day_pg, now=now, window=window, horizon_days=400)
    )
    assert sorted(through_driver) == sorted(through_sqlalchemy)
    assert through_driver
