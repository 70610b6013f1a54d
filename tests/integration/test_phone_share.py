"""The phone share (issue 15), on SQLite and PostgreSQL: seats a slot keeps for the hotline.

What these tests hold the service to: reserved seats are never in the public offers, the
public feed or a citizen's booking (a web booking of a slot whose only free seats are
reserved is refused as taken), while agents' offers (`Inventory.offers(phone=True)`) show
them and a phone booking takes the reserve first; the release job gives the reserve of a slot
to everyone once its start is less than the release lead ahead (not before: injected clock),
drops the cached readings, and does nothing the second time; a contingent recorded with a
share keeps floor(seats x share) seats; and web and phone bookings racing for one slot on
PostgreSQL never overbook, the web never taking a reserved seat; and the public answer of
one slot (`GET /api/v1/slots/{id}`) shows the seats open to everyone only.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from kontingent.app import Services
from kontingent.booking.model import SlotTaken
from kontingent.booking.service import BookingView
from kontingent.cli import app
from kontingent.clock import BERLIN, FixedClock
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.feed import FEED_DAYS
from kontingent.inventory.phone_share import change_share, release_phone_seats
from kontingent.inventory.service import Inventory
from kontingent.schema import contingents, slots
from tests.integration.test_races import claims, ledger_problems, race
from tests.integration.test_slot_days import assert_kept
from tests.support import BIELEFELD, T0, changed_rows, person, phone

JNJ = "JNJ"  # one dose: an offer is one slot
LEAD = timedelta(hours=48)


async def first_slot(services: Services) -> tuple[int, int]:
    """The first Bielefeld JNJ slot offered to everyone, and its capacity."""
    offer = (await services.inventory.offers(BIELEFELD, JNJ, limit=1)).offers[0]
    slot_id = offer.slot_ids[0]
    return slot_id, (await services.inventory.slot(slot_id)).capacity


async def hold(services: Services, slot_id: int, booked: int, reserved: int) -> None:
    async with services.db.write() as conn:
        await conn.execute(
            update(slots)
            .where(slots.c.id == slot_id)
            .values(booked=booked, phone_reserved=reserved)
        )
    services.inventory.slots_changed(BIELEFELD, JNJ)


async def state(services: Services, slot_id: int) -> tuple[int, int]:
    """(booked, phone_reserved) of one slot."""
    async with services.db.read() as conn:
        row = (
            await conn.execute(
                select(slots.c.booked, slots.c.phone_reserved).where(slots.c.id == slot_id)
            )
        ).one()
    return row.booked, row.phone_reserved


async def offered(services: Services, *, phone: bool, limit: int = 3) -> list[int]:
    view = await services.inventory.offers(BIELEFELD, JNJ, limit=limit, phone=phone)
    return [o.slot_ids[0] for o in view.offers]


async def test_reserved_seats_are_offered_to_agents_only(services: Services) -> None:
    slot_id, capacity = await first_slot(services)
    await hold(services, slot_id, booked=capacity - 2, reserved=2)

    assert slot_id not in await offered(services, phone=False, limit=20)
    assert (await offered(services, phone=True))[0] == slot_id
    agents = await services.inventory.offers(BIELEFELD, JNJ, 2, limit=1, phone=True)
    assert agents.offers[0].slot_ids == [slot_id, slot_id]  # both reserved seats, side by side

    await hold(services, slot_id, booked=capacity - 3, reserved=2)  # one seat for everyone
    assert (await offered(services, phone=False))[0] == slot_id
    couples = await services.inventory.offers(BIELEFELD, JNJ, 2, limit=1)
    assert slot_id not in couples.offers[0].slot_ids  # but not two of them


async def test_the_feed_never_counts_reserved_seats(services: Services) -> None:
    slot_id, capacity = await first_slot(services)
    before = await feed_seats(services)
    await hold(services, slot_id, booked=1, reserved=capacity - 1)
    assert await feed_seats(services) == before - capacity
    async with services.db.read() as conn:  # the same as the slots say, reserve left out
        query = select(func.sum(slots.c.capacity - slots.c.booked - slots.c.phone_reserved)).where(
            slots.c.centre_id == BIELEFELD,
            slots.c.vaccine_code == JNJ,
            slots.c.starts_at > services.clock.now(),
            slots.c.bookable_from <= services.clock.now(),
            slots.c.day < services.clock.now().date() + timedelta(days=FEED_DAYS),
        )
        assert await feed_seats(services) == (await conn.execute(query)).scalar_one()


async def feed_seats(services: Services) -> int:
    rows = (await services.inventory.feed()).rows
    return next(r.free_seats for r in rows if (r.centre.id, r.vaccine.code) == (BIELEFELD, JNJ))


async def test_only_a_phone_booking_takes_reserved_seats_and_it_takes_them_first(
    services: Services,
) -> None:
    slot_id, capacity = await first_slot(services)
    await hold(services, slot_id, booked=capacity - 3, reserved=2)  # one seat for everyone
    tokens = await claims(services, [phone(n) for n in range(5)])

    async def book(n: int, channel: str) -> BookingView:
        return await services.booking.book(tokens[n], [person(n)], [slot_id], channel=channel)

    await book(0, "phone")
    assert await state(services, slot_id) == (capacity - 2, 1)  # the reserve went first
    await book(1, "web")  # the public seat is still there
    assert await state(services, slot_id) == (capacity - 1, 1)
    with pytest.raises(SlotTaken):  # only a reserved seat is left: taken, for the web
        await book(2, "web")
    assert await state(services, slot_id) == (capacity - 1, 1)
    await book(3, "phone")
    assert await state(services, slot_id) == (capacity, 0)
    with pytest.raises(SlotTaken):
        await book(4, "phone")
    await assert_kept(services.db)


async def test_a_cancelled_phone_booking_gives_its_seat_to_everyone(services: Services) -> None:
    slot_id, capacity = await first_slot(services)
    await hold(services, slot_id, booked=capacity - 1, reserved=1)
    [token] = await claims(services, [phone(0)])
    view = await services.booking.book(token, [person(0)], [slot_id], channel="phone")
    assert await state(services, slot_id) == (capacity, 0)
    await services.booking.cancel(view.code, person(0)["birth_date"])
    assert await state(services, slot_id) == (capacity - 1, 0)
    assert (await offered(services, phone=False))[0] == slot_id
    await assert_kept(services.db)


async def test_only_a_rebooking_on_the_phone_takes_reserved_seats(services: Services) -> None:
    slot_id, capacity = await first_slot(services)
    [token] = await claims(services, [phone(0)])
    later = (await offered(services, phone=False))[1]
    view = await services.booking.book(token, [person(0)], [later])
    await hold(services, slot_id, booked=capacity - 1, reserved=1)
    born = person(0)["birth_date"]
    with pytest.raises(SlotTaken):
        await services.booking.rebook(view.code, born, [slot_id])
    moved = await services.booking.rebook(view.code, born, [slot_id], channel="phone")
    assert [a.slot_id for a in moved.appointments] == [slot_id]
    assert await state(services, slot_id) == (capacity, 0)
    assert await state(services, later) == (0, 0)
    await assert_kept(services.db)


async def reserve_around(services: Services, hours: tuple[float, ...]) -> list[int]:
    """Give one seat of reserve to the Bielefeld JNJ slot starting first at or after each of
    `hours` from now; their ids."""
    ids = []
    async with services.db.write() as conn:
        for h in hours:
            at = services.clock.now() + timedelta(hours=h)
            query = (
                select(slots.c.id)
                .where(
                    slots.c.centre_id == BIELEFELD,
                    slots.c.vaccine_code == JNJ,
                    slots.c.starts_at >= at,
                )
                .order_by(slots.c.starts_at)
                .limit(1)
            )
            slot_id = (await conn.execute(query)).scalar_one()
            await conn.execute(update(slots).where(slots.c.id == slot_id).values(phone_reserved=1))
            ids.append(slot_id)
    return ids


async def reserves(services: Services, ids: list[int]) -> list[int]:
    return [(await state(services, i))[1] for i in ids]


async def test_the_release_job_frees_reserves_at_the_lead_time_not_before(
    services: Services, clock: FixedClock
) -> None:
    soon, later = await reserve_around(services, (47, 49))
    starts = (await services.inventory.slot(later)).starts_at
    scheduler_release = partial(release_phone_seats, services.db, services.inventory, lead=LEAD)

    assert await scheduler_release(clock.now()) == 1
    assert await reserves(services, [soon, later]) == [0, 1]
    assert await scheduler_release(clock.now()) == 0  # idempotent
    clock.advance(starts - LEAD - clock.now() - timedelta(seconds=1))
    assert await scheduler_release(clock.now()) == 0  # a second before its minute: kept
    clock.advance(timedelta(seconds=1))
    assert await scheduler_release(clock.now()) == 1  # at its minute
    assert await reserves(services, [soon, later]) == [0, 0]
    await assert_kept(services.db)


async def test_the_release_job_runs_in_bounded_batches(services: Services) -> None:
    ids = await reserve_around(services, (3, 4, 5, 6, 7))
    assert await release_phone_seats(services.db, services.inventory, T0, LEAD, batch=2) == 5
    assert await reserves(services, ids) == [0] * 5


async def test_the_scheduler_releases_reserves_and_drops_the_cached_offers(
    services: Services, clock: FixedClock
) -> None:
    """A cache that keeps readings for a minute shows the released seats at once."""
    cached = Inventory(services.db, clock, ttl_s=60)
    slot_id, capacity = await first_slot(services)
    await hold(services, slot_id, booked=0, reserved=capacity)
    public = await cached.offers(BIELEFELD, JNJ, limit=1)
    assert public.offers[0].slot_ids != [slot_id]
    await cached.offers(BIELEFELD, JNJ, limit=1, phone=True)

    assert await release_phone_seats(services.db, cached, clock.now(), LEAD) == 1
    assert (await cached.offers(BIELEFELD, JNJ, limit=1)).offers[0].slot_ids == [slot_id]
    after = await cached.offers(BIELEFELD, JNJ, 2, limit=1, phone=True)
    assert after.offers[0].slot_ids == [slot_id, slot_id]


async def test_a_booking_counted_into_the_cache_changes_each_channels_readings_once(
    services: Services, clock: FixedClock
) -> None:
    """The phone's readings and the public ones of a day are kept apart: a booking's seat
    comes off each once, not twice off both."""
    cached = Inventory(services.db, clock, ttl_s=60)
    slot_id, _ = await first_slot(services)
    await hold(services, slot_id, booked=0, reserved=2)
    catalogue = await cached.catalogue()
    day = (await cached.slot(slot_id)).starts_at.astimezone(BERLIN).date()

    async def seats(phone: bool) -> int:
        async with cached.reads(BIELEFELD, JNJ, catalogue, phone=phone) as reads:
            await reads.slots(day)  # the day's slots read, so a booking's seats find their day
            return (await reads.seats(day, day)).seats[day.toordinal()]

    public, agents = await seats(False), await seats(True)
    assert agents == public + 2
    cached.seats_taken(BIELEFELD, JNJ, {slot_id: 1})
    assert (await seats(False), await seats(True)) == (public - 1, agents - 1)


async def test_the_jobs_run_the_release(services: Services, clock: FixedClock) -> None:
    from kontingent.jobs.service import scheduler_for

    [soon] = await reserve_around(services, (1,))
    done = await scheduler_for(services).run_due()
    assert done["phone_seats_released"] == 1
    assert await reserves(services, [soon]) == [0]


async def test_a_contingent_keeps_its_share_spread_over_its_slots(services: Services) -> None:
    where = (slots.c.centre_id == BIELEFELD) & (slots.c.vaccine_code == JNJ)
    free_standing = {"capacity": 1, "contingent_id": None, "bookable_from": None}
    contingent_id = None
    async with changed_rows(services.db, slots, where, **free_standing):
        async with services.db.write() as conn:
            contingent_id, attached = await inventory_repo.add_contingent(
                conn,
                centre_id=BIELEFELD,
                vaccine_code=JNJ,
                first_day=T0.date(),
                last_day=T0.date() + timedelta(days=365),
                release_at=T0,
                now=T0,
                phone_share_percent=20,
            )
            query = (
                select(slots.c.phone_reserved)
                .where(slots.c.contingent_id == contingent_id)
                .order_by(slots.c.starts_at)
            )
            kept = list((await conn.execute(query)).scalars().all())
        assert attached == len(kept) > 10
        assert sum(kept) == len(kept) * 20 // 100  # one-seat slots: every fifth keeps its seat
        assert kept[:10] == [0, 0, 0, 0, 1, 0, 0, 0, 0, 1]
        await assert_kept(services.db)
    async with services.db.write() as conn:
        await conn.execute(update(slots).where(where).values(phone_reserved=0))
        await conn.execute(contingents.delete().where(contingents.c.id == contingent_id))


async def test_web_and_phone_bookings_racing_for_one_slot_never_overbook(
    services: Services,
) -> None:
    """On PostgreSQL the one-statement bookings race on the pool; SQLite serialises them."""
    slot_id, _ = await first_slot(services)
    capacity, reserved, each = 12, 4, 30
    where = slots.c.id == slot_id
    async with changed_rows(services.db, slots, where, capacity=capacity, phone_reserved=reserved):
        tokens = await claims(services, [phone(n) for n in range(2 * each)])
        channels = ["web", "phone"] * each
        book = services.booking.book
        outcomes = await race(
            [
                partial(book, tokens[n], [person(n)], [slot_id], channel=channels[n])
                for n in range(2 * each)
            ]
        )
        won = {"web": 0, "phone": 0}
        for channel, outcome in zip(channels, outcomes, strict=True):
            if isinstance(outcome, BookingView):
                won[channel] += 1
            else:
                assert isinstance(outcome, SlotTaken), outcome
        booked, left = await state(services, slot_id)
        assert won["web"] + won["phone"] == booked == capacity  # every seat, none twice
        assert won["web"] <= capacity - reserved  # the web never took a reserved seat
        assert won["phone"] >= reserved and left == 0
        assert await ledger_problems(services.db) == []
        await assert_kept(services.db)
        async with services.db.write() as conn:  # changed_rows puts capacity back: empty first
            await conn.execute(update(slots).where(where).values(booked=0))


async def test_changing_a_share_spreads_it_over_the_slots_after_the_lead(
    services: Services,
) -> None:
    slot_id, capacity = await first_slot(services)  # starts within the lead: keeps nothing
    [far] = await reserve_around(services, (72,))
    await hold(services, far, booked=capacity - 1, reserved=0)  # one seat left to keep
    async with services.db.read() as conn:
        contingent_id = (
            await conn.execute(select(slots.c.contingent_id).where(slots.c.id == slot_id))
        ).scalar_one()

    count = await change_share(services.db, services.inventory, contingent_id, 50, T0, LEAD)
    async with services.db.read() as conn:
        rows = (
            await conn.execute(
                select(slots.c.id, slots.c.starts_at, slots.c.phone_reserved).where(
                    slots.c.contingent_id == contingent_id
                )
            )
        ).all()
    after = {r.id: r.phone_reserved for r in rows if r.starts_at > T0 + LEAD}
    assert count == len(after) < len(rows)
    assert all(r.phone_reserved == 0 for r in rows if r.id not in after)
    assert after.pop(far) == 1  # capped at the seats it had free
    assert set(after.values()) == {capacity // 2}  # half of every other slot's seats
    assert slot_id in await offered(services, phone=False)
    assert await change_share(services.db, services.inventory, 10**6, 20, T0, LEAD) is None
    with pytest.raises(ValueError, match="from 0 to 100"):
        await change_share(services.db, services.inventory, contingent_id, 101, T0, LEAD)
    await assert_kept(services.db)


def test_the_command_sets_a_share_and_names_what_is_wrong(
    sqlite_template: Path, tmp_path: Path
) -> None:
    """`kontingent phone-share` (the test data's slots lie in the past of the real clock)."""
    database = tmp_path / "k.sqlite3"
    shutil.copy(sqlite_template, database)
    url = ["--database-url", f"sqlite+aiosqlite:///{database}"]
    done = CliRunner().invoke(app, ["phone-share", "1", "30", *url])
    assert done.exit_code == 0, done.output
    assert "contingent 1 keeps 30 % for the hotline" in done.output
    with sqlite3.connect(database) as conn:
        assert (
            conn.execute("SELECT phone_share_percent FROM contingents WHERE id = 1").fetchone()[0]
            == 30
        )
    unknown = CliRunner().invoke(app, ["phone-share", "999999", "30", *url])
    assert unknown.exit_code == 2 and "no contingent 999999" in unknown.output
    too_much = CliRunner().invoke(app, ["phone-share", "1", "101", *url])
    assert too_much.exit_code == 2 and "from 0 to 100" in too_much.output


async def test_the_public_slot_answer_shows_only_the_seats_open_to_everyone(
    services: Services, client: AsyncTestClient[Litestar]
) -> None:
    slot_id, capacity = await first_slot(services)
    assert capacity >= 2
    await hold(services, slot_id, booked=0, reserved=1)

    async def shown() -> tuple[int, int]:
        body = (await client.get(f"/api/v1/slots/{slot_id}")).json()
        assert set(body) == {"slot_id", "centre_id", "vaccine", "start", "capacity", "booked"}
        return body["capacity"], body["booked"]

    assert await shown() == (capacity - 1, 0)  # free to the web: capacity - 1
    tokens = await claims(services, [phone(0)])
    await services.booking.book(tokens[0], [person(0)], [slot_id], channel="phone")
    # A phone booking took a reserved seat: the public's free seats are what they were.
    assert await shown() == (capacity, 1)
    await hold(services, slot_id, booked=capacity - 1, reserved=1)
    capacity_shown, booked_shown = await shown()
    assert capacity_shown - booked_shown == 0  # the last seat is the hotline's: none shown
