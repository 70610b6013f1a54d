"""`CatalogueWatch` (inventory/catalogue_version.py) without a database: a read it is given
and a clock the test moves. At most one check per second, one at a time, and a caller that
finds a check running never waits for it; a failed check changes nothing; a version this
process applied already is no change."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

import kontingent
from kontingent.inventory.catalogue_version import CatalogueWatch


class Versions:
    """The committed version, and how often it was read; `hold` keeps the next read open."""

    def __init__(self) -> None:
        self.version = 0
        self.reads = 0
        self.hold: asyncio.Event | None = None
        self.fail: Exception | None = None

    async def read(self) -> int:
        self.reads += 1
        if self.hold is not None:
            await self.hold.wait()
        if self.fail is not None:
            raise self.fail
        return self.version


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def versions() -> Versions:
    return Versions()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def watch(versions: Versions, clock: Clock) -> CatalogueWatch:
    return CatalogueWatch(versions.read, 1.0, clock)


async def test_the_first_check_learns_the_version_and_a_change_is_seen_a_second_later(
    watch: CatalogueWatch, versions: Versions, clock: Clock
) -> None:
    versions.version = 7
    assert await watch.changed() is False and watch.known == 7
    versions.version = 8
    clock.now = 100.999
    assert not watch.due() and await watch.changed() is False
    assert versions.reads == 1  # not due: nothing read, however often asked
    clock.now = 101.0
    assert await watch.changed() is True and watch.known == 8
    clock.now = 102.0
    assert await watch.changed() is False and versions.reads == 3


async def test_one_check_at_a_time_and_nobody_waits_for_it(
    watch: CatalogueWatch, versions: Versions, clock: Clock
) -> None:
    await watch.changed()
    versions.version, versions.hold = 1, asyncio.Event()
    clock.now = 101.0
    first = asyncio.create_task(watch.changed())
    await asyncio.sleep(0)  # the first caller is reading now
    assert versions.reads == 2 and not watch.due()
    assert await asyncio.wait_for(watch.changed(), 0.1) is False  # at once, no second read
    assert versions.reads == 2
    versions.hold.set()
    assert await first is True


async def test_a_failed_check_changes_nothing_and_is_tried_again_a_second_later(
    watch: CatalogueWatch, versions: Versions, clock: Clock
) -> None:
    await watch.changed()
    versions.version, versions.fail = 3, OSError("connection refused")
    clock.now += 1.0
    assert await watch.changed() is False
    assert watch.failures == 1 and watch.known == 0 and not watch.due()
    versions.fail = None
    clock.now += 1.0
    assert await watch.changed() is True and watch.known == 3


async def test_a_cancelled_check_leaves_the_next_caller_to_check(
    watch: CatalogueWatch, versions: Versions
) -> None:
    versions.hold = asyncio.Event()
    task = asyncio.create_task(watch.changed())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert watch.due()


async def test_a_version_this_process_applied_is_no_change(
    watch: CatalogueWatch, versions: Versions, clock: Clock
) -> None:
    await watch.changed()
    versions.version = 5
    watch.seen(5)  # its own change, or one Redis brought with its version
    clock.now += 1.0
    assert await watch.changed() is False and watch.known == 5
    watch.seen(4)  # an older one heard late never moves it back
    watch.seen(None)
    assert watch.known == 5


def test_every_announced_catalogue_change_names_its_version() -> None:
    """A new path calling `catalogue_changed()` without the version it raised fails here
    (tests/integration/admin/test_catalogue_version.py must then learn the path as well)."""
    src = Path(kontingent.__file__).parent
    calls = {
        f"{path.relative_to(src)}:{n}": line.strip()
        for path in src.rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\bcatalogue_changed\(", line) and "def catalogue_changed" not in line
    }
    assert len(calls) >= 8, calls  # the admin's paths, the check and the Redis listener
    assert [k for k, line in calls.items() if "version=" not in line] == []
