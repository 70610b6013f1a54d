"""What offers, the feed and cache refreshes cost against the inventory on file (issue 13).

    .venv/bin/python bench/inventory_scale.py [--scales 1,4,16] [--centres 27] [--rounds 20]

For each scale, on SQLite (a file in a temporary folder): migrate, seed the demo with `scale`
times its weeks of slots (8 weeks at scale 1), then time with nothing cached:
- cold offers: a new Inventory (empty caches) asked for one centre's BioNTech offers, in
  wall time and in the process's CPU time (which a machine busy with other work inflates
  less);
- the feed: one build of the public availability feed;
- refresh CPU: the process CPU (all threads, aiosqlite's included) of 108 cold refreshes
  (every centre and vaccine, repeated up to 108), in ms per refresh; 27 x 4 refreshed every
  second must stay under 5 % of one core, i.e. under 0.46 ms each;
- what 27 x 4 keys read at least every second cost in refreshes, as a share of one core: with
  every key refreshed each second (the TTL of 1 s), and with the cross-process invalidation
  connected, where a key is refreshed when a change drops it and otherwise once per settled
  TTL (default 30 s; Inventory.invalidation_connected), plus `--changes` drops per second
  (cancellations, rebookings: each costs one refresh).
Targets: cold offers < 5 ms, feed < 20 ms, at every scale; refreshes < 5 % of a core.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from kontingent.clock import BERLIN, FixedClock
from kontingent.config import Settings
from kontingent.db import Database, make_engine
from kontingent.demo.seed import WEEKS, DemoSize, seed_demo
from kontingent.inventory.service import Inventory
from kontingent.migrations import upgrade
from kontingent.schema import slots

console = Console(width=140)
REFRESHES = 108


KEYS = 27 * 4  # the demo's centres and vaccines


async def _measure(url: str, scale: int, centres: int, rounds: int, changes: float) -> list[str]:
    db = Database(make_engine(url))
    await upgrade(db.engine)
    clock = FixedClock(datetime(2026, 1, 12, 15, 30, tzinfo=BERLIN))
    try:
        await seed_demo(db, clock, DemoSize(weeks=WEEKS * scale, centres=centres))
        async with db.read() as conn:
            count = (await conn.execute(select(func.count()).select_from(slots))).scalar_one()
        cold, cold_cpu = [], []
        for _ in range(rounds):
            inventory = Inventory(db, clock, ttl_s=60)
            await inventory.catalogue()  # reference data is kept apart: not an offer read
            started, cpu = time.perf_counter(), time.process_time()
            view = await inventory.offers(1, "BNT", limit=10)
            cold.append((time.perf_counter() - started) * 1000)
            cold_cpu.append((time.process_time() - cpu) * 1000)
            assert view.offers, "the demo has offers"
        feed = []
        for _ in range(rounds):
            inventory = Inventory(db, clock, feed_ttl_s=0)
            await inventory.catalogue()
            started = time.perf_counter()
            await inventory.feed()
            feed.append((time.perf_counter() - started) * 1000)
        refresh = await _refresh_cpu(db, clock)
    finally:
        await db.dispose()
    return [
        f"{scale}x",
        f"{count:,}",
        f"{statistics.median(cold):.2f}",
        f"{max(cold):.2f}",
        f"{statistics.median(cold_cpu):.2f}",
        f"{statistics.median(feed):.1f}",
        f"{max(feed):.1f}",
        f"{refresh:.3f}",
        f"{refresh * KEYS / 1000:.0%}",
        f"{refresh * (KEYS / Settings().availability_settled_ttl_s + changes) / 1000:.1%}",
    ]


async def _refresh_cpu(db: Database, clock: FixedClock) -> float:
    """Process CPU per cold refresh of one centre and vaccine's offers, in ms."""
    inventory = Inventory(db, clock, ttl_s=60)
    catalogue = await inventory.catalogue()
    keys = [(c, v) for c in catalogue.centres for v in catalogue.vaccines]
    started = time.process_time()
    for i in range(REFRESHES):
        centre, vaccine = keys[i % len(keys)]
        inventory.forget_readings()
        await inventory.offers(centre, vaccine, limit=10, alternatives=False)
    return (time.process_time() - started) * 1000 / REFRESHES


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="1,4,16")
    parser.add_argument("--centres", type=int, default=27)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--changes", type=float, default=1.0, help="drops per second (cancellations etc.)"
    )
    args = parser.parse_args(argv)
    settled = Settings().availability_settled_ttl_s
    table = Table(title=f"offers and feed against inventory (SQLite, {args.centres} centres)")
    for column in (
        "scale", "slots", "cold offers ms (median)", "worst", "its CPU ms (median)",
        "feed ms (median)", "worst",
        "refresh CPU ms", "core: 108 keys each 1 s",
        f"core: invalidation on ({settled:.0f} s, {args.changes:g} drops/s)",
    ):  # fmt: skip
        table.add_column(column, justify="right")
    for scale in (int(s) for s in args.scales.split(",")):
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite+aiosqlite:///{Path(folder) / 'scale.db'}"
            table.add_row(*await _measure(url, scale, args.centres, args.rounds, args.changes))
            console.print(table)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
