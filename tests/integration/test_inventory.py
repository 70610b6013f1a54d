"""Inventory on SQLite and PostgreSQL: the catalogue, offers, alternatives, the public feed,
single slots, and contingents that release at their minute.

What these tests hold the service to: an offer pairs a first dose with a second inside the
vaccine's interval at one centre; a couple's offer only uses slots with two free seats; a full
centre answers with the nearest centres that still have offers; unreleased slots are never
offered before their release minute and are offered from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

import pytest
from sqlalchemy import select

from kontingent.app import Services
from kontingent.clock import FixedClock
from kontingent.errors import InvalidInput, NotFound
from kontingent.inventory.model import distance_km, is_valid_interval
from kontingent.schema import slots
from tests.support import BIELEFELD, T0, fill_centre, set_free, unreleased

BOCHUM, BOTTROP = 2, 3


async def seats(services: Services, ids: Iterable[int]) -> dict[int, tuple[int, str, int]]:
    """slot id -> (centre, vaccine, free seats), in one read."""
    query = select(
        slots.c.id, slots.c.centre_id, slots.c.vaccine_code, slots.c.capacity - slots.c.booked
    ).where(slots.c.id.in_(set(ids)))
    async with services.db.read() as conn:
        return {r[0]: (r[1], r[2], r[3]) for r in (await conn.execute(query)).all()}


async def test_catalogue_holds_the_seeded_reference_data(services: Services) -> None:
    catalogue = await services.inventory.catalogue()
    assert [c.name for c in catalogue.centres.values()] == [
        "Impfzentrum Bielefeld",
        "Impfzentrum Bochum",
        "Impfzentrum Bottrop",
    ]
    assert catalogue.centres[BIELEFELD].postcode == "33602"
    bnt = catalogue.vaccines["BNT"]
    assert (bnt.doses, bnt.interval_min_days, bnt.interval_max_days) == (2, 21, 42)
    assert catalogue.vaccines["JNJ"].doses == 1
    assert [p.district_id for p in catalogue.postcodes["33602"]] == [
        catalogue.centres[BIELEFELD].district_id
    ]
    assert {c.min_age for c in catalogue.cohorts} == {60, 70, 80}
    assert catalogue.campaign.booking_from < T0 < catalogue.campaign.booking_until


async def test_one_person_offers_pair_two_doses_inside_the_interval(services: Services) -> None:
    view = await services.inventory.offers(BIELEFELD, "BNT", persons=1, limit=5)
    assert len(view.offers) == 5
    assert view.next_release_at is None and view.alternatives == []
    starts = [o.appointments[0].starts_at for o in view.offers]
    assert starts == sorted(starts) and starts[0] > T0
    found = await seats(services, (i for o in view.offers for i in o.slot_ids))
    for offer in view.offers:
        first, second = offer.appointments
        assert (first.dose, second.dose, first.person, second.person) == (1, 2, 0, 0)
        assert is_valid_interval(view.vaccine, first.starts_at, second.starts_at)
        for slot_id in offer.slot_ids:
            assert found[slot_id][:2] == (BIELEFELD, "BNT") and found[slot_id][2] >= 1


async def test_couple_offers_use_only_slots_with_two_free_seats(services: Services) -> None:
    single = await services.inventory.offers(BIELEFELD, "BNT", persons=1, limit=1)
    nearly_full = single.offers[0].slot_ids[0]
    await set_free(services.db, 1, nearly_full)

    still = await services.inventory.offers(BIELEFELD, "BNT", persons=1, limit=1)
    assert still.offers[0].slot_ids[0] == nearly_full  # one seat is enough for one person
    couple = await services.inventory.offers(BIELEFELD, "BNT", persons=2, limit=5)
    assert len(couple.offers) == 5
    used = [i for o in couple.offers for i in o.slot_ids]
    assert nearly_full not in used
    found = await seats(services, used)
    for offer in couple.offers:
        a = offer.appointments
        assert [(x.dose, x.person) for x in a] == [(1, 0), (1, 1), (2, 0), (2, 1)]
        assert a[0].slot_id == a[1].slot_id and a[2].slot_id == a[3].slot_id
        assert all(found[x.slot_id][2] >= 2 for x in a)


@pytest.mark.parametrize("limit", [1, 3, 7])
async def test_limit_caps_the_offers(services: Services, limit: int) -> None:
    view = await services.inventory.offers(BIELEFELD, "MOD", persons=1, limit=limit)
    assert len(view.offers) == limit


async def test_one_dose_vaccine_offers_a_single_appointment(services: Services) -> None:
    view = await services.inventory.offers(BIELEFELD, "JNJ", persons=2, limit=2)
    assert [[(a.dose, a.person) for a in o.appointments] for o in view.offers] == [
        [(1, 0), (1, 1)],
        [(1, 0), (1, 1)],
    ]


async def test_full_centre_points_to_the_nearest_centres_with_offers(services: Services) -> None:
    await fill_centre(services.db, BIELEFELD, "BNT")
    for persons in (1, 2):
        view = await services.inventory.offers(BIELEFELD, "BNT", persons=persons)
        assert view.offers == []
        assert view.next_release_at is None  # everything is released already
        home = view.centre
        assert [a.centre.id for a in view.alternatives] == [BOCHUM, BOTTROP]  # nearest first
        for alt in view.alternatives:
            km = distance_km(home.lat, home.lon, alt.centre.lat, alt.centre.lon)
            assert alt.distance_km == round(km, 1) and 50 < alt.distance_km < 200
            assert alt.free_offers > 100


async def test_alternatives_leave_out_centres_that_are_full_too(services: Services) -> None:
    await fill_centre(services.db, BIELEFELD, "MOD")
    await fill_centre(services.db, BOCHUM, "MOD")
    view = await services.inventory.offers(BIELEFELD, "MOD")
    assert [a.centre.id for a in view.alternatives] == [BOTTROP]


async def test_feed_counts_free_offers_per_centre_and_vaccine(services: Services) -> None:
    await fill_centre(services.db, BOCHUM, "AZ")
    feed = {
        (r.centre.id, r.vaccine.code): (r.free_offers, r.next_release_at)
        for r in (await services.inventory.feed()).rows
    }
    assert set(feed) == {(c, v) for c in (1, 2, 3) for v in ("AZ", "BNT", "JNJ", "MOD")}
    assert feed[(BOCHUM, "AZ")] == (0, None)
    assert feed[(BIELEFELD, "AZ")][0] > 100
    assert all(release is None for _, release in feed.values())


async def test_slot_shows_capacity_and_seats_taken(services: Services) -> None:
    offer = (await services.inventory.offers(BIELEFELD, "BNT", limit=1)).offers[0]
    slot_id = offer.slot_ids[0]
    before = await services.inventory.slot(slot_id)
    assert (before.centre_id, before.vaccine_code, before.booked) == (BIELEFELD, "BNT", 0)
    assert before.starts_at == offer.appointments[0].starts_at and before.capacity == 24
    await set_free(services.db, 4, slot_id)
    assert (await services.inventory.slot(slot_id)).booked == 20
    with pytest.raises(NotFound) as missing:
        await services.inventory.slot(10**9)
    assert missing.value.code == "unknown_slot"


async def test_unknown_centre_and_vaccine_are_refused(services: Services) -> None:
    with pytest.raises(NotFound) as centre:
        await services.inventory.offers(99, "BNT")
    assert centre.value.code == "unknown_centre"
    with pytest.raises(InvalidInput) as vaccine:
        await services.inventory.offers(BIELEFELD, "XYZ")
    assert vaccine.value.code == "unknown_vaccine" and "BNT" in vaccine.value.message


async def test_contingent_is_offered_from_its_release_minute(
    services: Services, clock: FixedClock
) -> None:
    release_at = T0 + timedelta(minutes=30)
    async with unreleased(services.db, BOTTROP, "MOD", release_at):
        before = await services.inventory.offers(BOTTROP, "MOD", persons=1)
        assert before.offers == []
        assert before.next_release_at == release_at
        assert [a.centre.id for a in before.alternatives] == [BOCHUM, BIELEFELD]
        feed = {
            (r.centre.id, r.vaccine.code): (r.free_offers, r.next_release_at)
            for r in (await services.inventory.feed()).rows
        }
        assert feed[(BOTTROP, "MOD")] == (0, release_at)

        clock.advance(timedelta(minutes=30) - timedelta(seconds=1))
        assert (await services.inventory.offers(BOTTROP, "MOD")).offers == []

        clock.advance(timedelta(seconds=1))
        after = await services.inventory.offers(BOTTROP, "MOD", persons=2, limit=3)
        assert len(after.offers) == 3 and after.next_release_at is None
        assert after.alternatives == []
        assert all(a.starts_at > release_at for o in after.offers for a in o.appointments)
