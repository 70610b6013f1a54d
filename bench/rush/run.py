"""The 08:00 rush benchmark: a crowd arrives around an opening minute, waits in the queue,
verifies its phones and books; then the same crowd again with the waiting room off.

    .venv/bin/python bench/rush/run.py                 # short: both runs in a few minutes
    .venv/bin/python bench/rush/run.py --users 12000 --admit-rate 300 --weeks 8 --run-time 600
    make bench-rush ARGS="--users 6000"

One run (see bench/README.md, "Rush", for the figures):
1. a PostgreSQL schema of its own (seeded: 27 centres, `--weeks` of slots) and a Redis
   database of its own (`--redis-db`, refused unless empty), both emptied at the end;
2. with the waiting room on: the production stack (bench/rush/stack.py), the cohort and the
   waiting room opening `--lead` seconds after start; Locust (bench/rush/locustfile.py,
   headless, CSV and HTML report) plays `--users` people; then bench/loadgen.py measures queue
   joins/s and polls/s at the machine's limit; then the database checks;
3. the stack is restarted with the waiting room off on a reset inventory, and the same crowd
   (same seed: same arrival times, centres and reloaders) plays again;
4. the report: printed, and written to bench/results/rush-<time>/summary.md next to the Locust
   CSV and HTML files of both runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # bench/: loadgen, dataset, procs

import analysis  # noqa: E402
import dashpoll  # noqa: E402
import report  # noqa: E402
import stack  # noqa: E402
import throughput  # noqa: E402

import dataset  # noqa: E402
from procs import CpuWindow, Postgres  # noqa: E402

BIN = Path(sys.executable).parent
PORT = 19200
HELLO_PORT = 19201  # the plain Granian hello-world of the reference phase
STARTUP_S = 15.0  # seconds allowed for the stack to start before the first arrivals


@dataclass
class ModeResult:
    """What one run (waiting room on or off) measured."""

    mode: str
    opening: float
    people: list[dict[str, Any]]
    kinds: dict[str, int]
    steps: list[dict[str, str]]
    cpu: dict[str, float]
    seconds: float
    checks: list[tuple[str, int]]
    sms: dict[str, Any]
    outbox_left: int
    throughput: list[throughput.Measured] = field(default_factory=list)
    folder: Path = Path()
    # An admin's dashboard polled during the crowd (modes ending in "+dash"): polls, p99 ms.
    dashboard: dict[str, float] | None = None


# Every per-IP limit: the whole crowd comes from 127.0.0.1 here, where in production it comes
# from a few hundred thousand addresses. The per-phone limits stay as configured.
PER_IP_LIMITS = (
    "QUEUE_DRAW",
    "PIN_SEND",
    "PIN_CHECK",
    "BOOKING",
    "ELIGIBILITY",
    "OFFERS",
    "QUEUE_JOIN",
    "QUEUE_POLL",
)


def room_env(args: argparse.Namespace, on: bool, opening: float) -> dict[str, str]:
    """Settings of the waiting room and the rate limits for this run."""
    env = {f"KONTINGENT_RATE_{name}_PER_IP": "off" for name in PER_IP_LIMITS}
    # docs/operations.md, "Opening a cohort at 08:00": a longer availability cache when the
    # Redis invalidation is connected, which it is here.
    env["KONTINGENT_AVAILABILITY_TTL_S"] = str(args.availability_ttl)
    if on:
        env["KONTINGENT_WAITING_ROOM_MODE"] = "scheduled"
        env["KONTINGENT_WAITING_ROOM_OPENS_AT"] = datetime.fromtimestamp(opening, UTC).isoformat()
        env["KONTINGENT_WAITING_ROOM_ADMISSION_RATE"] = str(args.admit_rate)
    return env


def warm_up(url: str) -> None:
    """Pools filled and caches read, as on a morning when the service has been up for hours."""
    for vaccine in ("BNT", "MOD"):
        for centre in range(1, 28):
            for persons in (1, 2):
                path = f"/api/v1/centres/{centre}/offers?vaccine={vaccine}&persons={persons}"
                with urllib.request.urlopen(url + path, timeout=30) as r:  # noqa: S310
                    r.read()


def locust(args: argparse.Namespace, st: stack.Stack, on: bool, opening: float, out: Path) -> float:
    """Run the Locust crowd to its end; the CPU seconds Locust used."""
    out.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "RUSH_OPENING": str(opening),
        "RUSH_ROOM": "1" if on else "0",
        "RUSH_SMS_URL": st.sms_url,
        "RUSH_OUT": str(out),
        "RUSH_RUN": "1" if on else "2",
        "RUSH_AGGRESSIVE": str(args.aggressive),
        "RUSH_COUPLES": str(args.couples),
        "RUSH_THINK_SCALE": str(args.think_scale),
        "RUSH_BEFORE_S": str(args.before_s),
        "RUSH_SEED": str(args.seed),
    }
    command = [
        str(BIN / "locust"),
        *("-f", str(HERE / "locustfile.py"), "--headless", "--host", st.url),
        *("-u", str(args.users), "-r", str(max(1, args.users // 4))),
        *("-t", f"{args.run_time}s", "--stop-timeout", "5"),
        *("--csv", str(out / "locust"), "--html", str(out / "locust.html")),
        *("--loglevel", "WARNING", "--exit-code-on-error", "0", "--only-summary"),
    ]
    if args.locust_processes > 1:
        command += ["--processes", str(args.locust_processes)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with (out / "locust.log").open("w") as log:
        proc = subprocess.Popen(command, env=env, cwd=HERE.parent.parent, stdout=log, stderr=log)
        _stop_when_done(proc, out, args.users, args.run_time + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _stop_when_done(proc: subprocess.Popen[bytes], out: Path, users: int, limit_s: float) -> None:
    """Stop Locust (SIGINT: it writes its reports) once every person's journey has ended."""
    deadline = time.monotonic() + limit_s
    while proc.poll() is None:
        done = sum(int(p.read_text() or 0) for p in out.glob("finished-*"))
        if done >= users or time.monotonic() > deadline:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:  # its reports are lost; the run's figures are not
                proc.kill()
                proc.wait()
            break
        time.sleep(0.5)  # polling the processes' counters, bounded by the deadline


def settle(service: Iterable[int], limit_s: float = 120.0) -> None:
    """Wait until the service has worked off what the crowd left queued (requests whose
    clients gave up are still served), so the next phase measures only its own requests."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        with CpuWindow({"service": service}) as window:
            time.sleep(1)  # one second's CPU reading, repeated until the service is idle
        assert window.used is not None
        if window.used["service"] < 0.05:
            return


def queue_throughput(
    args: argparse.Namespace, st: stack.Stack, schema: str, secret: str
) -> list[throughput.Measured]:
    """Joins, polls and admitted bookings at the machine's limit (bench/loadgen.py)."""
    assert st.service is not None and st.relay is not None
    groups = {
        "service": st.service.pids(),
        "redis": stack.redis_pids(),
        "postgres": Postgres(),
        "relay": st.relay.pids(),
    }
    settle(groups["service"])
    count = args.loadgen_bookings
    bookings = asyncio.run(throughput.admitted_bookings(schema, secret, count)) if count else []
    out = [throughput.hello_world(HELLO_PORT, args.connections, args.throughput_s)]
    plans = throughput.join_plans(args.connections)
    out.append(throughput.measure("queue joins", PORT, plans, args.throughput_s, groups))
    tickets = asyncio.run(throughput.join_many(st.url, args.poll_tickets))
    plans = throughput.poll_plans(tickets, args.connections)
    out.append(throughput.measure("queue polls", PORT, plans, args.throughput_s, groups))
    if bookings:
        plans = throughput.booking_plans(bookings, args.connections)
        out.append(
            throughput.measure("admitted bookings", PORT, plans, args.throughput_s, groups, False)
        )
    return out


def wait_for_outbox(schema: str, limit_s: float) -> int:
    """Give the relay up to `limit_s` to deliver what the run queued; what is left."""
    deadline = time.monotonic() + limit_s
    while (left := asyncio.run(analysis.outbox_pending(schema))) and time.monotonic() < deadline:
        time.sleep(1)  # polling the relay's progress with a deadline
    return left


def sms_stats(st: stack.Stack) -> dict[str, Any]:
    with urllib.request.urlopen(f"{st.sms_url}/stats", timeout=30) as r:  # noqa: S310
        stats: dict[str, Any] = json.loads(r.read())
    return stats


def run_mode(
    args: argparse.Namespace,
    on: bool,
    schema: str,
    secret: str,
    out: Path,
    dash: bool = False,
    run: int = 0,
) -> ModeResult:
    mode = "waiting room on" if on else "waiting room off"
    if dash:
        mode += f", dashboard every {args.dashboard_every:g} s"
    opening = time.time() + STARTUP_S + args.before_s + 2
    asyncio.run(stack.open_cohort_at(schema, datetime.fromtimestamp(opening, UTC)))
    extra = room_env(args, on, opening)
    env = stack.base_env(schema, secret, args.redis_db, extra, args.source)
    st = stack.Stack(schema, PORT, on, env, relay_nice=args.relay_nice)
    # One folder per run: Locust's counters (finished-*) of an earlier run of the same mode
    # must not end this one, so a repeated mode (`--modes off,off+dash,off+dash,off`) is
    # numbered.
    name = ("room-on" if on else "room-off") + ("-dash" if dash else "")
    folder = out / (f"{run}-{name}" if run else name)
    try:
        st.start()
        warm_up(st.url)
        if time.time() > opening - args.before_s - 1:
            raise RuntimeError("the stack took longer than STARTUP_S to start: arrivals missed")
        print(f"[{mode}] {args.users} people, opening in {opening - time.time():.0f} s", flush=True)
        assert st.service is not None and st.relay is not None and st.sms is not None
        groups = {
            "service": st.service.pids(),
            "postgres": Postgres(),
            "redis": stack.redis_pids(),
            "relay": st.relay.pids(),
            "sms box": [st.sms.proc.pid],
        }
        poller = None
        if dash:
            token = dashpoll.admin_token(st.url, env)
            poller = dashpoll.DashboardPoller(st.url, token, args.dashboard_every)
            poller.start()
        started = time.monotonic()
        with CpuWindow(groups) as window:
            locust_cpu = locust(args, st, on, opening, folder)
        seconds = time.monotonic() - started
        dashboard = poller.stop() if poller is not None else None
        people, kinds = analysis.load_people(folder)
        analysis.add_scores(people, secret)
        assert window.used is not None
        cpu = {**window.used, "locust": locust_cpu / seconds}
        measured = queue_throughput(args, st, schema, secret) if on and args.throughput_s else []
        left = wait_for_outbox(schema, args.drain_s)
        others = sum(m.result.statuses.get(201, 0) for m in measured if "booking" in m.name)
        checks = asyncio.run(analysis.check_database(schema, people, others))
        sms = sms_stats(st)
    finally:
        st.stop()
        stack.release_redis_db(args.redis_db)
    steps = analysis.locust_steps(folder / "locust_stats.csv")
    return ModeResult(
        mode, opening, people, dict(kinds), steps, cpu, seconds, checks, sms, left, measured,
        folder, dashboard,
    )  # fmt: skip


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=3000, help="simulated people per run")
    p.add_argument("--admit-rate", type=float, default=50, help="admissions per second")
    p.add_argument("--availability-ttl", type=float, default=10, help="seconds (default 1)")
    p.add_argument("--aggressive", type=float, default=0.2, help="share pressing reload")
    p.add_argument("--couples", type=float, default=0.2, help="share booking for two")
    p.add_argument("--think-scale", type=float, default=0.05, help="× realistic think times")
    p.add_argument("--before-s", type=float, default=15, help="arrivals this early before 08:00")
    p.add_argument("--run-time", type=int, default=120, help="Locust stops each run after this")
    p.add_argument("--locust-processes", type=int, default=1, help="Locust --processes")
    p.add_argument("--weeks", type=int, default=2, help="weeks of first-dose slots seeded")
    p.add_argument("--throughput-s", type=float, default=8, help="0 skips the loadgen phases")
    p.add_argument("--connections", type=int, default=32, help="loadgen connections")
    p.add_argument("--loadgen-bookings", type=int, default=6000, help="prepared; 0: no phase")
    p.add_argument("--poll-tickets", type=int, default=2000, help="tickets the polls cycle over")
    p.add_argument("--drain-s", type=float, default=60, help="wait this long for the outbox")
    p.add_argument("--keep-schema", action="store_true", help="leave the schema to inspect")
    p.add_argument("--source", help="serve this src/ (e.g. a `git archive` snapshot)")
    p.add_argument(
        "--relay-nice",
        type=int,
        default=10,
        help="kontingent worker --nice (0-19): the relay yields the shared cores to requests",
    )
    p.add_argument("--redis-db", type=int, default=11, help="an empty Redis database to use")
    p.add_argument("--seed", type=int, default=8, help="the crowd's random seed")
    p.add_argument(
        "--modes",
        default="on,off",
        help="which runs, in order: on, off, and either with +dash (an admin's dashboard "
        "polled during the crowd), e.g. off,off+dash",
    )
    p.add_argument("--dashboard-every", type=float, default=2, help="seconds between polls")
    p.add_argument("--out", type=Path, default=HERE.parent / "results")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.source and os.environ.get("PYTHONPATH") != args.source:
        # Seeding and checks must use the served tree's schema too: start again on it.
        env = {**os.environ, "PYTHONPATH": args.source}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)  # noqa: S606
    out = args.out / time.strftime("rush-%Y%m%d-%H%M%S")
    schema, secret = f"kt_rush_{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    load_before = os.getloadavg()
    results: list[ModeResult] = []
    started = time.monotonic()
    stack.claim_redis_db(args.redis_db)
    try:
        print(f"seeding {schema}: 27 centres, {args.weeks} week(s) of first doses", flush=True)
        seed_s = time.monotonic()
        asyncio.run(stack.seed(schema, args.weeks))
        seed_s = time.monotonic() - seed_s
        modes = args.modes.split(",")
        repeated = len(set(modes)) < len(modes)
        for i, mode in enumerate(modes):
            if i:
                asyncio.run(stack.reset(schema))
            room, _, dash = mode.partition("+")
            run = i + 1 if repeated else 0
            results.append(
                run_mode(args, room == "on", schema, secret, out, dash == "dash", run=run)
            )
    finally:
        if args.keep_schema:
            print(f"kept schema {schema} for inspection: drop it when done", flush=True)
        else:
            asyncio.run(dataset.drop_schema(schema))
    meta = report.Meta(
        args=vars(args),
        load_before=load_before,
        load_after=os.getloadavg(),
        seed_s=seed_s,
        total_s=time.monotonic() - started,
    )
    text = report.render(meta, results)
    (out / "summary.md").write_text(text)
    print(text)
    print(f"written: {out / 'summary.md'} (Locust CSV and HTML beside it)")
    return 0 if report.all_checks_zero(results) else 1


if __name__ == "__main__":
    sys.exit(main())
