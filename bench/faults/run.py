"""The fault suite: a production-mode deployment under booking load, hurt in one way per
scenario at a known time, then checked.

    make bench-faults                                          # every scenario, ~8 minutes
    .venv/bin/python bench/faults/run.py --scenario pg-kill    # one (repeat the option for more)
    .venv/bin/python bench/faults/run.py --list

One run (bench/README.md, "Faults", has the figures):
1. its own PostgreSQL 15 cluster (initdb into a temporary folder, a free port) and its own
   redis-server on a free port (infra.py), migrated and seeded once with the demo campaign;
2. per scenario, on a reset inventory and an empty Redis: `kontingent serve --workers 2
   --no-relay`, `kontingent worker`, the SMS box and the SMTP sink (stack.py); the waiting
   room armed at run time with `kontingent waiting-room set`, as docs/operations.md tells
   operators to arm it (`--no-room` leaves it off);
3. `--clients` people booking through the API (driver.py) for `--before-s`, then the fault
   (scenarios.py), then `--after-s` more of load; then a booking-path request without an
   admission (is the room still guarding?), the relay's time to deliver what is queued, and
   the checks (checks.py);
4. one table, printed and written to bench/results/faults-<time>/summary.md with the
   clients' error events (events.json) and every server's log beside it.
The exit status is 1 when any scenario broke an invariant, messages included (not for
errors or slow recovery, which the table shows).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import secrets
import subprocess
import sys
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # bench/faults, and bench/ for procs and rush

import aiohttp  # noqa: E402
import asyncpg  # noqa: E402
import report  # noqa: E402
import uvloop  # noqa: E402
from checks import check, pending  # noqa: E402
from driver import API, Load  # noqa: E402
from infra import Infrastructure, free_port, missing  # noqa: E402
from scenarios import BY_NAME, SCENARIOS, Hands, Scenario  # noqa: E402
from stack import PER_IP_LIMITS, Deployment  # noqa: E402

from kontingent.clock import SystemClock  # noqa: E402
from kontingent.db import Database, make_engine  # noqa: E402
from kontingent.demo.seed import DemoSize, seed_demo  # noqa: E402
from kontingent.migrations import upgrade  # noqa: E402
from rush.stack import WRITTEN_TABLES  # noqa: E402

BIN = Path(sys.executable).parent
GUARDED = "403 admission_required"
GUARDING_PROBES = 12  # refusals in a row, spread over both workers by the balancer


async def seed(infra: Infrastructure, weeks: int) -> list[dict[str, Any]]:
    """Migrate and seed the demo; the centres the clients book at."""
    db = Database(make_engine(infra.pg.url))
    try:
        await upgrade(db.engine)
        await seed_demo(db, SystemClock(), DemoSize(weeks=weeks))
    finally:
        await db.dispose()
    conn = await asyncpg.connect(infra.pg.dsn)
    try:
        return [dict(r) for r in await conn.fetch("SELECT id, postcode, city FROM centres")]
    finally:
        await conn.close()


async def reset(dsn: str) -> None:
    """Forget what the scenario before wrote: every scenario starts on the same inventory."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"TRUNCATE {', '.join(WRITTEN_TABLES)} RESTART IDENTITY CASCADE")
        await conn.execute("UPDATE slots SET booked = 0 WHERE booked <> 0")
    finally:
        await conn.close()


def environment(infra: Infrastructure, secret: str) -> dict[str, str]:
    return {
        "KONTINGENT_DATABASE_URL": infra.pg.url,
        "KONTINGENT_REDIS_URL": infra.redis.url,
        "KONTINGENT_SECRET_KEY": secret,
        "KONTINGENT_LOG_LEVEL": "warning",
        "KONTINGENT_LOG_FORMAT": "json",
        **{f"KONTINGENT_RATE_{name}_PER_IP": "off" for name in PER_IP_LIMITS},
    }


def arm_room(env: dict[str, str], rate: float) -> None:
    """Open the room now at `rate`: guarding verification and booking from this moment."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    command = [str(BIN / "kontingent"), "waiting-room", "set", "--mode", "scheduled"]
    command += ["--opens-at", now, "--rate", str(rate)]
    subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True)


_probes = itertools.count()


def in_line(env: dict[str, str]) -> str:
    """How many people wait in the room now, as `kontingent waiting-room status` says."""
    command = [str(BIN / "kontingent"), "waiting-room", "status"]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("waiting "):
            return line.split()[-1]
    return "?"


async def probe_room(url: str) -> str:
    """A PIN request without an admission, on a new connection (so on any worker): the
    room should refuse it while armed."""
    body = {"phone": f"+4915299{next(_probes):06d}"}  # a phone of its own: no PIN limit
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        answer = await Load.send_with(session, url, "POST", f"{API}/verifications", body)
    return f"{answer.status or 'no answer'} {answer.code}".strip()


async def until_guarding(url: str, timeout_s: float = 30.0) -> None:
    """Return once the room refuses requests without admission, in every worker: each
    process follows the room's settings within a second of its next request, and load
    that starts sooner would meet some workers guarding and others not."""
    deadline, refused = time.monotonic() + timeout_s, 0
    while refused < GUARDING_PROBES:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the waiting room did not guard {timeout_s:.0f} s after arming")
        refused = refused + 1 if await probe_room(url) == GUARDED else 0
        await asyncio.sleep(0.1)  # probing the workers in turn, bounded by the deadline


async def drain(dsn: str, limit_s: float) -> None:
    """Give the relay up to `limit_s` to deliver what the scenario queued."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        try:
            if await pending(dsn) == 0:
                return
        except (OSError, asyncpg.PostgresError):
            pass  # PostgreSQL still recovering: ask again
        await asyncio.sleep(0.5)  # polling the relay's progress, bounded by the deadline


async def pin_delays(dsn: str) -> list[tuple[float, float]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT created_at, sent_at FROM outbox WHERE channel = 'sms' AND priority = 0 "
            "AND sent_at IS NOT NULL"
        )
    finally:
        await conn.close()
    return [(_unix(r["created_at"]), _unix(r["sent_at"])) for r in rows]


def _unix(naive_utc: datetime) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp()


def logged_errors(logs: list[Path]) -> int:
    """Error lines in the service's logs: JSON events at level error, Granian's own errors."""
    count = 0
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if '"level": "error"' in line or '"level":"error"' in line or "[ERROR]" in line:
                count += 1
    return count


async def run_scenario(
    scenario: Scenario,
    infra: Infrastructure,
    args: argparse.Namespace,
    env: dict[str, str],
    centres: list[dict[str, Any]],
    index: int,
    out: Path,
) -> report.Outcome:
    await reset(infra.pg.dsn)
    infra.redis.flush()
    deployment = Deployment(env, free_port(), out / scenario.name)
    await asyncio.to_thread(deployment.start)
    load = Load(deployment.url, deployment.sms_url, args.clients, centres, room=args.room)
    try:
        if args.room:
            await asyncio.to_thread(arm_room, deployment.env, args.admission_rate)
            await until_guarding(deployment.url)
        what = scenario.describe(args.down_s)
        print(f"[{scenario.name}] {what}", flush=True)
        load_from = time.time()
        load.start(index)
        await asyncio.sleep(args.before_s)
        hands = Hands(infra, deployment, scenario.length(args.down_s))
        if args.room:
            hands.notes["in line at the fault"] = await asyncio.to_thread(in_line, deployment.env)
        fault_at = time.time()
        await scenario.inject(hands)
        hands.end()
        await asyncio.sleep(args.after_s)
        load_to = time.time()
        await load.stop(grace_s=args.grace_s)
        room = await probe_room(deployment.url) if args.room else "off"
        await drain(infra.pg.dsn, scenario.drain_s)
    finally:
        await load.aclose()
        sms, mail = await asyncio.to_thread(deployment.stop)
    findings = await check(infra.pg.dsn, load.ledger, sms, mail, deployment.relays_killed())
    outcome = report.Outcome(
        scenario.name,
        what,
        load_from,
        fault_at,
        hands.ended_at or fault_at,
        load_to,
        load.ledger,
        findings,
        await pin_delays(infra.pg.dsn),
        room,
        logged_errors(deployment.service_logs()),
        hands.notes,
    )
    events = [asdict(e) for e in load.ledger.events]
    (out / scenario.name / "events.json").write_text(json.dumps(events))
    print(f"[{scenario.name}] " + " | ".join(report.row(outcome)[1:]), flush=True)
    return outcome


async def run(args: argparse.Namespace, chosen: list[Scenario], out: Path) -> list[report.Row]:
    infra = Infrastructure(aof=args.redis_aof)
    outcomes: list[report.Row] = []
    try:
        began = time.monotonic()
        await asyncio.to_thread(infra.start)
        print(f"PostgreSQL on {infra.pg.port}, Redis on {infra.redis.port}: seeding", flush=True)
        centres = await seed(infra, args.weeks)
        print(f"ready in {time.monotonic() - began:.0f} s", flush=True)
        env = environment(infra, secrets.token_urlsafe(32))
        for i, scenario in enumerate(chosen, start=1):
            began = time.monotonic()
            try:
                outcomes.append(await run_scenario(scenario, infra, args, env, centres, i, out))
            except Exception as exc:  # the harness's own failure: shown, and the next one runs
                traceback.print_exc()
                what = scenario.describe(args.down_s)
                outcomes.append(report.Broken(scenario.name, what, repr(exc)))
                await asyncio.to_thread(infra.heal)
            print(f"[{scenario.name}] took {time.monotonic() - began:.0f} s", flush=True)
    finally:
        await asyncio.to_thread(infra.close)
    return outcomes


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", action="append", choices=list(BY_NAME), help="run only these")
    p.add_argument("--list", action="store_true", help="list the scenarios and exit")
    p.add_argument("--clients", type=int, default=60, help="people booking at once (50-100)")
    p.add_argument("--before-s", type=float, default=6, help="load before the fault")
    p.add_argument("--after-s", type=float, default=15, help="load after the fault's end")
    p.add_argument("--grace-s", type=float, default=10, help="for journeys under way at the end")
    p.add_argument("--admission-rate", type=float, default=15, help="waiting room, per second")
    p.add_argument("--down-s", type=float, help="every fault's length (default: its own)")
    p.add_argument("--no-room", dest="room", action="store_false", help="leave the room off")
    p.add_argument("--redis-aof", action="store_true", help="Redis with an append-only file")
    p.add_argument("--weeks", type=int, default=1, help="weeks of first-dose slots seeded")
    p.add_argument("--out", type=Path, default=HERE.parent / "results")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.list:
        for s in SCENARIOS:
            print(f"{s.name:<15} {s.describe(args.down_s)}")
        return 0
    chosen = [BY_NAME[name] for name in args.scenario] if args.scenario else SCENARIOS
    if lacking := missing():
        print(f"the fault suite needs: {', '.join(lacking)}", file=sys.stderr)
        return 2
    out = args.out / time.strftime("faults-%Y%m%d-%H%M%S")
    out.mkdir(parents=True)
    started, load_before = time.monotonic(), os.getloadavg()
    outcomes = uvloop.run(run(args, chosen, out))
    meta = {
        "clients": args.clients,
        "waiting room": f"armed, {args.admission_rate:g}/s" if args.room else "off",
        "Redis persistence": "append-only file" if args.redis_aof else "none",
        "load before / fault / after": f"{args.before_s:g} s / per scenario / {args.after_s:g} s",
        "load average before / after": f"{load_before[0]:.1f} / {os.getloadavg()[0]:.1f}",
        "took": f"{time.monotonic() - started:.0f} s",
    }
    report.print_table(outcomes)
    (out / "summary.md").write_text(report.markdown(outcomes, meta))
    print(f"written: {out / 'summary.md'} (events and server logs beside it)")
    return 0 if all(report.held(o) for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
