"""What the hotline's offers read (kontingent.agent.offers), on SQLite and PostgreSQL.

What these tests hold them to: the first free days and release minutes of every centre a
caller may book at are one query each, kept as each centre's own readings (equal to what
that centre's own reads give); only the home centre and the nearest centres with a free day
are asked for offers, at most five in all; so the statements one answer takes do not grow
with the number of centres searched, with or without free days.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import pytest
from sqlalchemy import delete, event, select

from kontingent.agent.offers import MAX_NEAREST, AgentOffers, OfferQuery, find_offers
from kontingent.app import Services
from kontingent.eligibility.service import Eligibility
from kontingent.inventory import repository as inventory_repo
from kontingent.inventory.offers import first_day_range, last_bookable_day
from kontingent.inventory.pairing import OfferWish
from kontingent.inventory.reads import read_ahead
from kontingent.inventory.service import Inventory
from kontingent.schema import centres, slots
from tests.support import BIELEFELD

QUERY = OfferQuery(date(1939, 5, 1), "33602", persons=2, vaccine="BNT",
                   partner_birth_date=date(1938, 12, 12))  # fmt: skip
FIRST_EXTRA = 1001
AddCentres = Callable[[int, float, bool], Awaitable[list[int]]]


@pytest.fixture
async def add_centres(services: Services) -> AsyncIterator[AddCentres]:
    """Adds centres in Bielefeld's district, `km_north` of it (roughly), each with a copy of
    its BNT slots (`with_slots`) or none; all removed afterwards (PostgreSQL's reference
    tables outlive one test)."""
    added: list[int] = []
    async with services.db.read() as conn:
        home = (await conn.execute(select(centres).where(centres.c.id == BIELEFELD))).one()
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

    async def add(count: int, km_north: float, with_slots: bool) -> list[int]:
        ids = [FIRST_EXTRA + len(added) + i for i in range(count)]
        async with services.db.write() as conn:
            for n, centre_id in enumerate(ids):
                row = {**home._asdict(), "id": centre_id, "name": f"Extra {centre_id}"}
                row["lat"] = home.lat + (km_north + n) / 111.0
                await conn.execute(centres.insert().values(row))
                if with_slots:
                    copies = [
                        {k: v for k, v in r.items() if k not in ("id", "day")}
                        | {"centre_id": centre_id}
                        for r in template
                    ]
                    await inventory_repo.insert_slots(conn, copies)
        added.extend(ids)
        services.inventory.forget_catalogue()
        return ids

    yield add
    async with services.db.write() as conn:
        await conn.execute(delete(slots).where(slots.c.centre_id.in_(added)))
        await conn.execute(delete(centres).where(centres.c.id.in_(added)))
    services.inventory.forget_catalogue()


async def counted(services: Services) -> tuple[int, AgentOffers]:
    """SELECTs of one answer of offers for QUERY on cold readings (the catalogue read)."""
    inventory = Inventory(services.db, services.clock, ttl_s=60, catalogue_ttl_s=60)
    await inventory.catalogue()
    eligibility = Eligibility(inventory, services.clock)
    await eligibility.check(QUERY.birth_date.isoformat(), QUERY.postcode)
    count = 0

    def on_statement(*args: object) -> None:
        nonlocal count
        count += str(args[2]).lstrip().startswith("SELECT")  # not SQLite's BEGIN

    engine = services.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        found = await find_offers(eligibility, inventory, QUERY)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    return count, found


async def test_statements_do_not_grow_with_the_centres_searched(
    services: Services, add_centres: AddCentres
) -> None:
    near = await add_centres(MAX_NEAREST, 5.0, True)  # nearer than the demo's other two
    base, found = await counted(services)
    assert [c.centre.id for c in found.centres] == [BIELEFELD, *near]
    assert all(c.offers for c in found.centres)

    await add_centres(8, 300.0, False)  # searched, without a free day
    assert (await counted(services))[0] == base
    far = await add_centres(8, 400.0, True)  # with free days, but farther than five others
    more, found_far = await counted(services)
    assert more == base
    assert [c.centre.id for c in found_far.centres] == [c.centre.id for c in found.centres]
    assert not {c.centre.id for c in found_far.centres} & set(far)
    # Two reads ahead for every centre, then per centre asked: one read of seats per day
    # of the second-dose windows and the slots of the days tried.
    assert base <= 2 + 3 * (1 + MAX_NEAREST)


async def test_readings_read_ahead_equal_each_centres_own(
    services: Services, add_centres: AddCentres
) -> None:
    await add_centres(2, 5.0, True)
    await add_centres(2, 50.0, False)
    ahead = Inventory(services.db, services.clock, ttl_s=60, catalogue_ttl_s=60)
    own = Inventory(services.db, services.clock, ttl_s=0, catalogue_ttl_s=60)
    catalogue = await ahead.catalogue()
    ids = sorted(catalogue.centres)
    wish = OfferWish(2, 5)
    with_days = await read_ahead(ahead, catalogue, ids, "BNT", wish, phone=True)
    assert with_days == set(ids) - {FIRST_EXTRA + 2, FIRST_EXTRA + 3}
    first, last = first_day_range(wish, ahead.earliest_start(), last_bookable_day(catalogue))
    for centre_id in ids:
        async with ahead.reads(centre_id, "BNT", catalogue, phone=True) as reads:
            kept = (await reads.first_days(first, last, 2), await reads.next_release())
        async with own.reads(centre_id, "BNT", catalogue, phone=True) as reads:
            read = (await reads.first_days(first, last, 2), await reads.next_release())
        assert kept == read, centre_id
    assert ahead.days_cache.misses == 2 * len(ids)  # all read ahead, none read again
