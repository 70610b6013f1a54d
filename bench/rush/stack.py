"""The production-mode stack the rush runs against, started and stopped as one.

What runs (every part a process of its own, as in production):
- PostgreSQL 127.0.0.1:5432, database `test`, a schema of the run's own (dropped at the end),
  migrated and seeded with the demo campaign (27 centres, BNT/MOD/AZ/JNJ slots from opening
  hours and lanes: about 6,000 BNT first-dose seats per centre and week);
- Redis 127.0.0.1:6379, a database number of the run's own (emptied at the end);
- `kontingent serve --workers 2 --no-relay` (Granian), the waiting room on or off;
- `kontingent worker --nice 10` (`--relay-nice`): the outbox relay, yielding the shared cores
  to requests as docs/operations.md advises on a shared host, delivering to
- the SMS box (bench/rush/smsbox.py), from which simulated people read their PINs, and the
  SMTP sink of the relay tests (tests/integration/notifications/servers.py, counting only).

The 80+ cohort opens at the simulated 08:00 (`opening`), so before it nobody can book even
without a waiting room, as on the real morning.
"""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import redis

import dataset
from kontingent.clock import SystemClock
from kontingent.db import Database, make_engine
from kontingent.demo.seed import SLOT_MINUTES, VACCINES, DemoSize, seed_demo
from kontingent.inventory.model import MINUTES_PER_JAB
from kontingent.migrations import upgrade
from procs import Server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# What a run writes; emptied between the run with and the run without the waiting room.
WRITTEN_TABLES = (
    "bookings",
    "persons",
    "appointments",
    "idempotency_keys",
    "verifications",
    "outbox",
    "dev_mailbox",
    "waitlist",
)


class Sidecar:
    """A helper server in a process of its own that prints `ready PORT` and, on SIGTERM, its
    counts as its last line."""

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("ready "):
            raise RuntimeError(f"{args} did not start: {line!r}")
        self.port = int(line.split()[1])

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        lines = out.strip().splitlines()
        return lines[-1] if lines else ""


async def seed(schema: str, weeks: int) -> None:
    await dataset.create_schema(schema)
    db = Database(make_engine(dataset.PG_URL, schema=schema))
    try:
        await upgrade(db.engine)
        await seed_demo(db, SystemClock(), DemoSize(weeks=weeks))
    finally:
        await db.dispose()


async def open_cohort_at(schema: str, opening: datetime) -> None:
    """The over-80s cohort opens at the simulated 08:00."""
    conn = await dataset.connect(schema)
    try:
        await conn.execute(
            "UPDATE cohorts SET opens_at = $1 WHERE min_age = 80",
            opening.astimezone(UTC).replace(tzinfo=None),
        )
    finally:
        await conn.close()


async def reset(schema: str) -> None:
    """Forget everything a run wrote, so the next run starts from the same free inventory."""
    conn = await dataset.connect(schema)
    try:
        present = {
            r["tablename"]
            for r in await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = $1", schema
            )
        }
        tables = ", ".join(f'"{t}"' for t in WRITTEN_TABLES if t in present)
        await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        await conn.execute("UPDATE slots SET booked = 0 WHERE booked <> 0")
        for code, *_, lanes in VACCINES:  # the admitted-bookings phase raised some seats
            capacity = lanes * SLOT_MINUTES // MINUTES_PER_JAB
            await conn.execute(
                "UPDATE slots SET capacity = $1 WHERE vaccine_code = $2 AND capacity <> $1",
                capacity,
                code,
            )
    finally:
        await conn.close()


def redis_url(db: int) -> str:
    return f"redis://127.0.0.1:6379/{db}"


def claim_redis_db(db: int) -> None:
    """Refuse a Redis database that holds keys: the run deletes every key in its database at
    the end (waiting room and rate limit keys have fixed prefixes, so the run's isolation is a
    database number of its own)."""
    client = redis.Redis.from_url(redis_url(db))
    try:
        if client.dbsize():
            raise RuntimeError(f"Redis database {db} is not empty: choose another with --redis-db")
    finally:
        client.close()


def release_redis_db(db: int) -> None:
    client = redis.Redis.from_url(redis_url(db))
    try:
        client.flushdb()
    finally:
        client.close()


def redis_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-x", "redis-server"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


@dataclass
class Stack:
    """Servers of one run; `env` is what both `serve` and `worker` are given."""

    schema: str
    port: int
    waiting_room: bool
    env: Mapping[str, str]
    relay_nice: int = 0  # `kontingent worker --nice`: how far the relay yields the CPU
    sms: Sidecar | None = None
    smtp: Sidecar | None = None
    service: Server | None = None
    relay: Server | None = None
    sms_counts: dict[str, object] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sms_url(self) -> str:
        assert self.sms is not None
        return f"http://127.0.0.1:{self.sms.port}"

    def start(self) -> None:
        python = sys.executable
        self.sms = Sidecar([python, str(ROOT / "bench/rush/smsbox.py")])
        self.smtp = Sidecar([python, "-m", "tests.integration.notifications.servers", "smtp"])
        env = {
            **self.env,
            "KONTINGENT_SMS_GATEWAY_URL": f"{self.sms_url}/sms",
            "KONTINGENT_SMTP_URL": f"smtp://127.0.0.1:{self.smtp.port}",
        }
        room = "--waiting-room" if self.waiting_room else "--no-waiting-room"
        self.service = Server(
            "service",
            [
                str(BIN / "kontingent"),
                "serve",
                "--workers",
                "2",
                "--port",
                str(self.port),
                "--no-relay",
                room,
            ],
            env,
            ROOT,
            port=self.port,
        )
        relay = [str(BIN / "kontingent"), "worker"]
        if self.relay_nice:  # (a `--source` snapshot older than the option runs without)
            relay += ["--nice", str(self.relay_nice)]
        self.relay = Server("relay", relay, env, ROOT)
        self.service.wait_ready(f"{self.url}/api/v1/vaccines")
        if self.relay.proc.poll() is not None:
            raise RuntimeError(f"the relay exited: see {self.relay.log}")

    def stop(self) -> None:
        for server in (self.service, self.relay):
            if server is not None:
                server.stop()
        if self.sms is not None:
            with contextlib.suppress(ValueError):
                self.sms_counts = json.loads(self.sms.stop() or "{}")
        if self.smtp is not None:
            self.smtp.stop()


def base_env(
    schema: str, secret: str, db: int, extra: Mapping[str, str], source: str | None = None
) -> dict[str, str]:
    """`source`: serve another source tree (a snapshot's src/) instead of the installed one."""
    env = {
        "KONTINGENT_DATABASE_URL": dataset.PG_URL,
        "KONTINGENT_DATABASE_SCHEMA": schema,
        "KONTINGENT_SECRET_KEY": secret,
        "KONTINGENT_REDIS_URL": redis_url(db),
        "KONTINGENT_LOG_LEVEL": "warning",
    }
    if source:
        env["PYTHONPATH"] = source
    env.update(extra)
    return env
