"""What one build of the public availability feed costs, against the inventory's size.

    .venv/bin/python bench/feed.py [--scales 1,4] [--rounds 15]

For each scale, on SQLite (a file in a temporary folder) and on PostgreSQL (a schema of its
own in database `test`, dropped at the end): migrate, seed the demo with `scale` times its
weeks of slots (27 centres, 8 weeks at scale 1), book some seats so that `slot_days` has been
changed by the triggers, then time `read_feed` cold, with nothing cached, `--rounds` times.
Printed: slots on file, rows of `slot_days`, and the median and worst build in ms. The aim of
issue 11 is "well under 50 ms" on the demo (scale 1); the cost should not follow the slots.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, update

import dataset
from kontingent.clock import SystemClock
from kontingent.db import Database, make_engine
from kontingent.demo.seed import WEEKS, DemoSize, seed_demo
from kontingent.inventory.feed import read_feed
from kontingent.inventory.repository import load_catalogue
from kontingent.migrations import upgrade
from kontingent.schema import slot_days, slots

console = Console(width=160)


async def _prepare(db: Database, weeks: int) -> tuple[int, int]:
    """Seed, take a seat in every 7th slot; (slots, slot_days rows)."""
    await upgrade(db.engine)
    await seed_demo(db, SystemClock(), DemoSize(weeks=weeks))
    async with db.write() as conn:
        await conn.execute(update(slots).where(slots.c.id % 7 == 0).values(booked=1))
    async with db.read() as conn:
        n_slots = (await conn.execute(select(func.count()).select_from(slots))).scalar_one()
        n_days = (await conn.execute(select(func.count()).select_from(slot_days))).scalar_one()
    return n_slots, n_days


async def _time_builds(db: Database, rounds: int) -> list[float]:
    async with db.read() as conn:
        catalogue = await load_catalogue(conn)
    clock = SystemClock()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        reading = await read_feed(db, catalogue, clock.now(), lambda _code: True)
        times.append((time.perf_counter() - started) * 1000)
        assert reading.rows
    return times


async def _measure(
    url: str, schema: str | None, weeks: int, rounds: int
) -> tuple[int, int, list[float]]:
    db = Database(make_engine(url, schema=schema))
    try:
        n_slots, n_days = await _prepare(db, weeks)
        return n_slots, n_days, await _time_builds(db, rounds)
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,4", help="multiples of the demo's weeks")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    table = Table(title="Public feed: one cold build (read_feed), ms")
    for col in ("database", "scale", "slots", "slot_days rows", "median ms", "worst ms"):
        table.add_column(col, justify="left" if col == "database" else "right")
    for scale in (int(s) for s in args.scales.split(",")):
        weeks = WEEKS * scale
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'feed.sqlite3'}"
            with console.status(f"SQLite, {weeks} weeks"):
                found = asyncio.run(_measure(url, None, weeks, args.rounds))
            _row(table, "SQLite", scale, *found)
        schema = f"kt_feed_{secrets.token_hex(4)}"
        asyncio.run(dataset.create_schema(schema))
        try:
            with console.status(f"PostgreSQL, {weeks} weeks"):
                found = asyncio.run(_measure(dataset.PG_URL, schema, weeks, args.rounds))
            _row(table, "PostgreSQL", scale, *found)
        finally:
            asyncio.run(dataset.drop_schema(schema))
    console.print(table)
    return 0


def _row(table: Table, name: str, scale: int, n_slots: int, n_days: int, ms: list[float]) -> None:
    table.add_row(
        name, f"{scale}×", f"{n_slots:,}", f"{n_days:,}", f"{statistics.median(ms):.1f}",
        f"{max(ms):.1f}",
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
