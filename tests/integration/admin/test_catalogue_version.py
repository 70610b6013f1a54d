"""A change of the catalogue reaches another process within a second without Redis (the
catalogue's version, inventory/catalogue_version.py), on one SQLite file and on PostgreSQL:
two instances of the services on one database, the second one's checks on a clock the test
moves. And every path that changes the catalogue raises the version in its transaction and
tells its own process which version it made: a path that forgot fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta

import pytest
from sqlalchemy import delete

from kontingent.admin.campaign_routes import campaign_rules
from kontingent.admin.campaign_service import CampaignChange, Who
from kontingent.admin.centres_closures import DayClosures
from kontingent.admin.centres_service import AdminCentres, CentreFields
from kontingent.admin.cohorts_model import CohortRule
from kontingent.admin.cohorts_routes import cohort_rules
from kontingent.admin.vaccines_model import VaccineRule
from kontingent.admin.vaccines_routes import vaccine_rules
from kontingent.app import Services, build_services
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.eligibility.service import load_postcodes
from kontingent.inventory import catalogue_version
from kontingent.inventory.service import Inventory
from kontingent.schema import catalogue_version as catalogue_version_table
from kontingent.staff.audit import Actor, Channel
from tests.integration.admin.conftest import BY, FIRST_DAY, drop_centre, make_centre
from tests.support import T0

WHO = Who(Actor("admin.test", None, "admin"), Channel.api, None)
SEVENTIES = 3  # the seeded "70 bis 79 Jahre", opening in two weeks
AGED_75 = ("1950-06-01", "33602")
NEW_VACCINE = VaccineRule("NVX", "Novavax", 2, 21, 42, 21, 18, None)


class Seconds:
    """A monotonic clock the test moves: the second instance's checks and catalogue TTL."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def seconds() -> Seconds:
    return Seconds()


@pytest.fixture
async def other(settings: Settings, clock: FixedClock, seconds: Seconds) -> AsyncIterator[Services]:
    """A second process on the same database, without Redis (settings have no Redis URL)."""
    assert settings.redis_url is None
    built = build_services(settings, clock)
    built.inventory.catalogue_watch.monotonic = seconds
    built.inventory.catalogue_cache.monotonic = seconds  # its 5 s TTL never runs out here
    yield built
    await built.db.dispose()


async def version(services: Services) -> int:
    async with services.db.read() as conn:
        return await catalogue_version.read(conn)


async def test_a_new_vaccine_reaches_the_other_process_within_a_second(
    services: Services, other: Services, seconds: Seconds
) -> None:
    assert "NVX" not in (await other.inventory.catalogue()).vaccines
    checks = other.inventory.catalogue_watch.checks
    await vaccine_rules(services).add(NEW_VACCINE, WHO)
    assert "NVX" in (await services.inventory.catalogue()).vaccines  # here at once
    seconds.now = 1000.999
    for _ in range(20):  # however many requests: no check before the second is up
        assert "NVX" not in (await other.inventory.catalogue()).vaccines
    assert other.inventory.catalogue_watch.checks == checks
    seconds.now = 1001.0
    assert "NVX" in (await other.inventory.catalogue()).vaccines
    assert other.inventory.catalogue_watch.checks == checks + 1
    assert other.inventory.catalogue_watch.known == await version(services)


async def test_a_cohort_moved_seconds_before_its_minute_opens_at_that_minute_elsewhere(
    services: Services, other: Services, clock: FixedClock, seconds: Seconds
) -> None:
    opening = T0 + timedelta(minutes=1)
    clock.set(opening - timedelta(seconds=3))
    assert "BNT" not in (await other.eligibility.check(*AGED_75)).decision.vaccines
    await cohort_rules(services).change(SEVENTIES, {"opens_at": opening}, WHO)
    clock.set(opening - timedelta(seconds=1))
    seconds.now += 2
    assert "BNT" not in (await other.eligibility.check(*AGED_75)).decision.vaccines  # not yet
    clock.set(opening)
    seconds.now += 1
    assert "BNT" in (await other.eligibility.check(*AGED_75)).decision.vaccines


async def test_the_changing_process_and_one_that_heard_it_read_the_catalogue_once(
    services: Services, other: Services, seconds: Seconds
) -> None:
    for process in (services, other):
        process.inventory.catalogue_watch.monotonic = seconds
        process.inventory.catalogue_cache.monotonic = seconds
        await process.inventory.catalogue()
    await vaccine_rules(services).add(NEW_VACCINE, WHO)
    made = services.inventory.catalogue_watch.known
    other.inventory.catalogue_changed(announce=False, version=made)  # as Redis brings it
    loads = [p.inventory.catalogue_cache.misses for p in (services, other)]
    seconds.now += 1
    for process in (services, other):
        for _ in range(3):
            assert "NVX" in (await process.inventory.catalogue()).vaccines
    assert [p.inventory.catalogue_cache.misses for p in (services, other)] == [
        n + 1 for n in loads
    ]  # the one reload after the change, none for the check that found the same version
    assert [p.inventory.catalogue_watch.known for p in (services, other)] == [made, made]


# --- every path that changes the catalogue --------------------------------------------------

Change = Callable[[Services, int], Awaitable[object]]
DAY = FIRST_DAY + timedelta(days=2)


async def _window(services: Services, _: int) -> object:
    rules = campaign_rules(services)
    until = (await rules.view()).window.booking_until + timedelta(days=1)
    return await rules.change(CampaignChange(booking_until=until), WHO)


async def _close(services: Services, centre: int) -> object:
    return await DayClosures.of(services).close(centre, DAY, "Sturm", BY)


CHANGES: dict[str, Change] = {
    "vaccine added": lambda s, _: vaccine_rules(s).add(NEW_VACCINE, WHO),
    "vaccine changed": lambda s, _: vaccine_rules(s).change("BNT", {"interval_max_days": 43}, WHO),
    "cohort added": lambda s, _: cohort_rules(s).add(
        CohortRule("Neu", 50, 59, frozenset({"AZ"}), T0 + timedelta(days=7)), WHO
    ),
    "cohort changed": lambda s, _: cohort_rules(s).change(SEVENTIES, {"max_age": 78}, WHO),
    "booking window": _window,
    "centre changed": lambda s, c: AdminCentres.of(s).change(c, CentreFields(lanes=3), BY),
    "day closed": _close,
    "day opened again": lambda s, c: DayClosures.of(s).open(c, DAY, BY),
    "postcodes loaded": lambda s, _: load_postcodes(s.db, seeded_districts_only=True),
}
BEFORE = {"day opened again": _close}  # what the change needs done first


@pytest.mark.parametrize("path", list(CHANGES))
async def test_every_change_of_the_catalogue_raises_its_version(
    services: Services, centre: int, seconds: Seconds, path: str
) -> None:
    if path in BEFORE:
        await BEFORE[path](services, centre)
    elsewhere = Inventory(services.db, services.clock, monotonic=seconds)
    await elsewhere.catalogue()
    before = await version(services)
    await CHANGES[path](services, centre)
    after = await version(services)
    assert after > before, f"{path}: the version was not raised"
    if path != "postcodes loaded":  # a command's own process has no catalogue to tell
        assert services.inventory.catalogue_watch.known == after, f"{path}: not told"
    seconds.now += 1
    assert await elsewhere.catalogue_watch.changed(), f"{path}: another process missed it"


async def test_a_new_centre_raises_the_version(services: Services) -> None:
    before = await version(services)
    centre = await make_centre(services)
    try:
        assert await version(services) == before + 1
        assert services.inventory.catalogue_watch.known == before + 1
    finally:
        await drop_centre(services, centre)


async def test_a_database_without_the_row_starts_it_again(services: Services) -> None:
    async with services.db.write() as conn:
        await conn.execute(delete(catalogue_version_table))
    assert await version(services) == 0
    async with services.db.write() as conn:
        assert await catalogue_version.bump(conn) == 1
    async with services.db.write() as conn:
        assert await catalogue_version.bump(conn) == 2
