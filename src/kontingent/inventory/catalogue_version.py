"""The catalogue's version: how every process learns of a change of the catalogue within a
second, with Redis or without it.

Every change of the catalogue (centres, opening hours, closed and opened days, vaccines,
cohorts, the booking window, postcodes) raises the one row of `catalogue_version` by one in
its own transaction (`bump`). Each process reads that row at most once a second
(`CatalogueWatch`) and, when it moved, reads its catalogue anew, as a change announced over
Redis makes it do at once (`Inventory.catalogue_changed`).

Invariants kept here:
- The version is raised in the change's transaction, so a process that reads a version has
  the change committed before it: the catalogue it reads next holds it. On PostgreSQL the
  row lock the raise takes is held to the commit, so versions commit in their order (and
  SQLite writes one transaction at a time): having seen version n, a process has seen every
  change up to n.
- At most one check per `every_s` (1 s) and one at a time per process: the caller that finds
  the check due runs it (one read by primary key); every other caller meanwhile goes on with
  the catalogue it has and never waits. So no read waits for more than that one check, and
  a change is in force in every process at most `every_s` plus that read after its commit.
- A check that fails (the database unreachable, busy or not migrated) changes nothing: the
  catalogue's TTL still bounds how old it may be; the failure is logged once per spell and
  the check is tried again after `every_s`.
- A version this process applied already (its own change, or one Redis brought with its
  version) is known: the check does not read the catalogue a second time for it. Any other
  version read is news, a lower one too (a row made anew), so the check never goes blind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy import insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.errors import KontingentError
from kontingent.schema import catalogue_version

log = structlog.get_logger(__name__)
CHECK_EVERY_S = 1.0
_ROW = catalogue_version.c.id == 1


async def bump(conn: AsyncConnection) -> int:
    """Raise the version in the caller's transaction (a change of the catalogue); the new
    version. Call it last in the transaction: on PostgreSQL it holds the row's lock to the
    commit, and every other change of the catalogue waits for it."""
    raised = await conn.execute(update(catalogue_version).where(_ROW).values(
        version=catalogue_version.c.version + 1))  # fmt: skip
    if raised.rowcount == 0:  # a database whose row went missing: start it again
        await conn.execute(insert(catalogue_version).values(id=1, version=1))
    return await read(conn)


async def read(conn: AsyncConnection) -> int:
    """The version committed (0 before any change; also without the row)."""
    found = (await conn.execute(select(catalogue_version.c.version).where(_ROW))).scalar()
    return 0 if found is None else int(found)


class CatalogueWatch:
    """Whether another process changed the catalogue, asked at most once per `every_s`.

    `read` reads the committed version; `monotonic` is the clock of the checks (tests move
    it). `known`: the version this process holds the catalogue of (None before the first
    check)."""

    def __init__(
        self,
        read: Callable[[], Awaitable[int]],
        every_s: float = CHECK_EVERY_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.every_s = every_s
        self.monotonic = monotonic
        self.known: int | None = None
        self.checks = 0  # versions read (a count for tests and metrics)
        self.failures = 0
        self._next_at = float("-inf")
        self._checking = False
        self._failing = False

    def due(self) -> bool:
        """Whether a check is due now (cheap: the per-request path asks this only)."""
        return not self._checking and self.monotonic() >= self._next_at

    def seen(self, version: int | None) -> None:
        """This process applied the change that made `version` (None: a change whose version
        it was not told, which the next check finds)."""
        if version is not None and (self.known is None or version > self.known):
            self.known = version

    async def changed(self) -> bool:
        """Check the version when due: True when it moved past what this process knows
        (the first check only learns it). False when not due or another check runs."""
        if not self.due():
            return False
        self._checking = True
        self._next_at = self.monotonic() + self.every_s
        try:
            version = await self.read()
        except (KontingentError, SQLAlchemyError, OSError) as exc:
            self._failed(exc)
            return False
        except asyncio.CancelledError:
            self._next_at = float("-inf")  # the caller went away: the next one checks
            raise
        finally:
            self._checking = False
        self.checks += 1
        if self._failing:
            log.info("catalogue_version_check_recovered")
            self._failing = False
        before, self.known = self.known, version
        return before is not None and version != before  # lower: a row made anew, also news

    def _failed(self, exc: BaseException) -> None:
        self.failures += 1
        if not self._failing:
            log.warning(
                "catalogue_version_check_failed",
                error=type(exc).__name__,
                fallback="the catalogue's TTL until the database answers",
            )
        self._failing = True
