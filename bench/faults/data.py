"""The suite's data: the demo campaign seeded once, and put back before every scenario.

Invariants kept here:
- Every scenario starts on the same free inventory: what a scenario wrote (bookings, people,
  verifications, outbox, idempotency keys: the rush's `WRITTEN_TABLES`) is emptied and every
  slot's seat count set back to 0, so its checks see its own bookings only.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from kontingent.clock import SystemClock
from kontingent.db import Database, make_engine
from kontingent.demo.seed import DemoSize, seed_demo
from kontingent.migrations import upgrade
from rush.stack import WRITTEN_TABLES


async def seed(url: str, dsn: str, weeks: int) -> list[dict[str, Any]]:
    """Migrate and seed the demo; the centres the clients book at."""
    db = Database(make_engine(url))
    try:
        await upgrade(db.engine)
        await seed_demo(db, SystemClock(), DemoSize(weeks=weeks))
    finally:
        await db.dispose()
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(r) for r in await conn.fetch("SELECT id, postcode, city FROM centres")]
    finally:
        await conn.close()


async def reset(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"TRUNCATE {', '.join(WRITTEN_TABLES)} RESTART IDENTITY CASCADE")
        await conn.execute("UPDATE slots SET booked = 0 WHERE booked <> 0")
    finally:
        await conn.close()
