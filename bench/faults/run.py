"""The fault suite: a production-mode deployment under booking load, hurt in one way per
scenario at a known time, then checked.

    make bench-faults                                          # every scenario, about 11 minutes
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
   clients' ledgers (ledger.json) and every server's log beside it.
The exit status is 1 when any scenario broke an invariant, messages included (not for
errors or slow recovery, which the table shows).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]  # bench/faults, and bench/ for procs and rush

import asyncpg  # noqa: E402
import data  # noqa: E402
import report  # noqa: E402
import room  # noqa: E402
import uvloop  # noqa: E402
from checks import check, pending, pin_delays  # noqa: E402
from driver import Load  # noqa: E402
from infra import Infrastructure, free_port, missing  # noqa: E402
from scenarios import BY_NAME, SCENARIOS, Hands, Scenario  # noqa: E402
from stack import PER_IP_LIMITS, Deployment  # noqa: E402


@dataclass
class Timeline:
    """When the load ran and the fault struck, Unix times, and what the fault noted."""

    what: str
    load_from: float = 0.0
    fault_at: float = 0.0
    fault_end: float = 0.0
    load_to: float = 0.0
    room_after: str = "off"
    notes: dict[str, Any] = field(default_factory=dict)


def environment(infra: Infrastructure, secret: str) -> dict[str, str]:
    return {
        "KONTINGENT_DATABASE_URL": infra.pg.url,
        "KONTINGENT_REDIS_URL": infra.redis.url,
        "KONTINGENT_SECRET_KEY": secret,
        "KONTINGENT_LOG_LEVEL": "warning",
        "KONTINGENT_LOG_FORMAT": "json",
        **{f"KONTINGENT_RATE_{name}_PER_IP": "off" for name in PER_IP_LIMITS},
    }


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


def logged_errors(logs: list[Path]) -> int:
    """Error lines in the service's logs: JSON events at level error, Granian's own errors."""
    count = 0
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if '"level": "error"' in line or '"level":"error"' in line or "[ERROR]" in line:
                count += 1
    return count


async def prepare(
    infra: Infrastructure, env: dict[str, str], args: argparse.Namespace, logs: Path
) -> Deployment:
    """A fresh deployment on a reset inventory and an empty Redis, the room guarding."""
    await data.reset(infra.pg.dsn)
    infra.redis.flush()
    deployment = Deployment(env, free_port(), logs)
    await asyncio.to_thread(deployment.start)
    if args.room:
        await asyncio.to_thread(room.arm, deployment.env, args.admission_rate)
        await room.until_guarding(deployment.url)
    return deployment


async def strike(
    scenario: Scenario,
    infra: Infrastructure,
    deployment: Deployment,
    load: Load,
    args: argparse.Namespace,
    index: int,
) -> Timeline:
    """Load, the fault at `--before-s`, load until `--after-s` past its end; then the
    journeys under way finish and the room is probed."""
    line = Timeline(scenario.describe(args.down_s))
    print(f"[{scenario.name}] {line.what}", flush=True)
    line.load_from = time.time()
    load.start(index)
    await asyncio.sleep(args.before_s)
    hands = Hands(infra, deployment, scenario.length(args.down_s), notes=line.notes)
    if args.room:
        line.notes["in line at the fault"] = await asyncio.to_thread(room.in_line, deployment.env)
    line.fault_at = time.time()
    await scenario.inject(hands)
    hands.end()
    line.fault_end = hands.ended_at or line.fault_at
    await asyncio.sleep(args.after_s)
    line.load_to = time.time()
    await load.stop(grace_s=args.grace_s)
    if args.room:
        line.room_after = await room.probe(deployment.url)
    return line


async def run_scenario(
    scenario: Scenario,
    infra: Infrastructure,
    args: argparse.Namespace,
    env: dict[str, str],
    centres: list[dict[str, Any]],
    index: int,
    out: Path,
) -> report.Outcome:
    folder = out / f"{index:02d}-{scenario.name}"  # (a scenario may be asked for twice)
    deployment = await prepare(infra, env, args, folder)
    load = Load(deployment.url, deployment.sms_url, args.clients, centres, room=args.room)
    try:
        line = await strike(scenario, infra, deployment, load, args, index)
        await drain(infra.pg.dsn, scenario.drain_s)
    finally:
        await load.aclose()
        sms, mail = await asyncio.to_thread(deployment.stop)
    dsn = infra.pg.dsn
    outcome = report.Outcome(
        scenario.name,
        line.what,
        line.load_from,
        line.fault_at,
        line.fault_end,
        line.load_to,
        load.ledger,
        await check(dsn, load.ledger, sms, mail, deployment.relays_killed()),
        await pin_delays(dsn),
        line.room_after,
        logged_errors(deployment.service_logs()),
        line.notes,
    )
    (folder / "ledger.json").write_text(json.dumps(asdict(load.ledger)))
    print(f"[{scenario.name}] " + " | ".join(report.row(outcome)[1:]), flush=True)
    return outcome


async def run(args: argparse.Namespace, chosen: list[Scenario], out: Path) -> list[report.Row]:
    infra = Infrastructure(aof=args.redis_aof)
    outcomes: list[report.Row] = []
    try:
        began = time.monotonic()
        await asyncio.to_thread(infra.start)
        print(f"PostgreSQL on {infra.pg.port}, Redis on {infra.redis.port}: seeding", flush=True)
        centres = await data.seed(infra.pg.url, infra.pg.dsn, args.weeks)
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
    print(f"written: {out / 'summary.md'} (ledgers and server logs beside it)")
    return 0 if all(report.held(o) for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
