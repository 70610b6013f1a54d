"""Migration 0019 (releases) goes down to 0018 and up again on both databases: its two tables
go and come back, and a release made after the way back up works as before."""

from __future__ import annotations

from datetime import timedelta

from kontingent.admin.releases_service import Releases
from kontingent.clock import FixedClock
from kontingent.db import Database
from kontingent.demo.seed import DemoSize, seed_demo
from kontingent.inventory.service import Inventory
from kontingent.migrations import downgrade, upgrade
from kontingent.staff.audit import Channel
from kontingent.waitlist.service import Waitlist
from tests.integration.admin.test_releases import ADA, wish
from tests.integration.test_migrations import empty_db, layout  # noqa: F401 (fixture)
from tests.support import T0


async def test_the_release_migration_goes_down_and_up_again(empty_db: Database) -> None:  # noqa: F811
    await upgrade(empty_db.engine)
    await seed_demo(empty_db, FixedClock(T0), DemoSize(weeks=1, centres=1, phone_share_percent=0))
    full = await layout(empty_db)
    assert {"releases", "release_centres"} <= set(full)
    await downgrade(empty_db.engine, "0018")
    assert not {"releases", "release_centres"} & set(await layout(empty_db))
    await upgrade(empty_db.engine)
    assert await layout(empty_db) == full
    clock = FixedClock(T0)
    inventory = Inventory(empty_db, clock, ttl_s=0)
    releases = Releases(empty_db, clock, inventory, Waitlist(empty_db, clock, inventory), 0)
    day = T0.date() + timedelta(days=7)  # JNJ after the seeded week
    made = await releases.schedule(ADA, wish(first_day=day, last_day=day), Channel.cli, None)
    assert (made.status, made.slots) == ("scheduled", 36)
