"""The raw ceiling: the service's booking SQL driven straight through asyncpg.

Each connection runs, per booking, what the service runs in the database: the booking statement
that `kontingent.booking.pg_statement.booking_statement` makes (the very text and parameters
the service executes, confirmations included), alone in autocommit as the service runs it; a
full slot aborts it (`ck_slots_not_overbooked`) and counts as a 409. No HTTP, no validation, no
SQLAlchemy: what is left is the database's own cost and the driver's, the most the service
could do. Its connections get the service's driver-pool settings (the plan made once).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from collections.abc import Sequence
from multiprocessing.synchronize import Event

import asyncpg
import uvloop

from kontingent.db import DRIVER_SERVER_SETTINGS
from loadgen import WorkerResult

Plan = Sequence[tuple[str, tuple[object, ...]]]  # (statement, parameters) per booking


async def _run_one(
    conn: asyncpg.Connection,
    plan: Plan,
    deadline: float,
    out: WorkerResult,
) -> None:
    for sql, params in plan:
        started = time.monotonic()
        if started >= deadline:
            return
        try:
            booking_id = await conn.fetchval(sql, *params)
        except asyncpg.CheckViolationError:
            booking_id = None
        out.latencies_us.append(int((time.monotonic() - started) * 1e6))
        out.statuses[201 if booking_id is not None else 409] += 1


async def _drive(
    plans: Sequence[Plan],
    seconds: float,
    ready: Event,
    go: Event,
    dsn: str,
    schema: str,
) -> WorkerResult:
    out = WorkerResult()
    settings = {**DRIVER_SERVER_SETTINGS, "search_path": schema}  # as the service's driver pool
    conns = [await asyncpg.connect(dsn, server_settings=settings) for _ in plans]
    for conn, plan in zip(conns, plans, strict=True):  # prepared, as in a warm service
        if plan:
            await conn.prepare(plan[0][0])
    ready.set()
    await asyncio.get_running_loop().run_in_executor(None, go.wait)
    cpu0 = time.process_time()
    out.started = time.monotonic()
    await asyncio.gather(
        *(_run_one(c, p, out.started + seconds, out) for c, p in zip(conns, plans, strict=True))
    )
    out.finished = time.monotonic()
    out.cpu_s = time.process_time() - cpu0
    for conn in conns:
        await conn.close()
    return out


def sql_worker(
    plans: Sequence[Plan],
    seconds: float,
    ready: Event,
    go: Event,
    results: mp.Queue[WorkerResult],
    dsn: str,
    schema: str,
) -> None:
    results.put(uvloop.run(_drive(plans, seconds, ready, go, dsn, schema)))
