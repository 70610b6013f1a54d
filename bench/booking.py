"""Booking and offer throughput on PostgreSQL, side by side with its ceilings, in one run.

    .venv/bin/python bench/booking.py [--quick] [--connections 32] [--now 07:59,15:30,21:55]

What it does (see bench/README.md for the figures):
1. creates its own schema in database `test`, migrates it and seeds the demo at the current
   time (27 centres), with bench slots raised to a capacity that no phase exhausts;
2. stores verified phone verifications and signs their tokens with the server's secret key,
   one distinct person and phone per booking;
3. starts `kontingent serve --workers 2` on PostgreSQL and Redis (the workers' cache
   invalidation, on a channel of this run; `--no-redis` leaves it out) and a plain Granian
   hello-world app with 2 workers, and drives them with a small multi-process HTTP load
   generator;
4. measures, one after the other on the same machine: hello-world requests, offer reads
   across all centres (at the current time, then at each `--now` time of the seeded day on
   a service whose clock is shifted there, in demo mode), public feed reads (whole answers,
   then 304 polls with the ETag), bookings each of a different offer, the same mixed with
   hotline agents' bookings (90 % web, 10 % agents with bearer tokens, bench/agents.py),
   bookings all fighting over four
   offers (contended), and the raw ceiling: the service's own booking SQL through asyncpg
   at the same concurrency;
5. checks the database afterwards (no slot over capacity, seat counts equal appointments,
   every booking complete with its confirmation queued) and drops the schema.

Absolute rates drift on a shared 2-core machine; the ratios measured in the same run do not.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import agents
import dataset
import paired
import spy
from kontingent.clock import BERLIN
from loadgen import LoadResult, Phase, get, http_worker, post_json
from procs import CpuWindow, Postgres, Server, hello_server
from raw import sql_worker
from spy import Sampler

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
SERVICE_PORT, HELLO_PORT, CLOCKED_PORT = 19100, 19101, 19102
AIM_BOOKINGS, AIM_OFFERS, AIM_P99_MS, AIM_RAW_SHARE = 1000, 5000, 100, 0.5  # issue 13
REDIS_URL = "redis://127.0.0.1:6379/0"
AIM_OFFERS_HELLO, AIM_OFFERS_P99_MS = 0.4, 50  # issue 13: at every --now time
DEFAULT_TIMES = "07:59,15:30,21:55"  # before the 08:00 release, afternoon, after closing
CONTENDED_PAIRS, CONTENDED_CAPACITY = 4, 25
FEED_TTL_S = 5  # the service's default feed_ttl_s
UNREACHABLE_LIMITS = {
    f"KONTINGENT_RATE_{name.upper()}": "10000000/1s"
    for name in (
        "booking_per_ip", "booking_per_phone", "offers_per_ip", "staff_login_per_ip",
        "agent_booking_per_agent",
    )
}  # fmt: skip

console = Console(width=200)


@dataclass(frozen=True)
class Plan:
    """How long each phase runs and how many bookings are prepared for it."""

    get_s: float
    book_s: float
    contended_s: float
    raw_s: float
    bookings: int
    raw_bookings: int
    rounds: int  # bookings and raw ceiling alternate in this many rounds (bench/paired.py)
    mixed_s: float  # web alone and web with agents, in alternating rounds
    mixed: int
    warmup: int = 400

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(
                get_s=3,
                book_s=4,
                contended_s=2,
                raw_s=4,
                bookings=16_000,
                raw_bookings=30_000,
                rounds=4,
                mixed_s=8,
                mixed=16_000,
            )
        return cls(
            get_s=8,
            book_s=10,
            contended_s=4,
            raw_s=10,
            bookings=40_000,
            raw_bookings=60_000,
            rounds=10,
            mixed_s=20,
            mixed=40_000,
        )


@dataclass
class Outcome:
    name: str
    result: LoadResult
    cpu: dict[str, float]
    notes: list[str] = field(default_factory=list)
    raw_ratio: float | None = None  # bookings ÷ raw ceiling, median of the paired rounds
    sampled: list[Path] = field(default_factory=list)  # py-spy stacks (--profile)


@dataclass
class Data:
    warmup: list[dataset.Prepared]
    bookings: list[dataset.Prepared]
    contended: list[dataset.Prepared]
    raw: list[dataset.Prepared]
    seed_s: float
    pairs: int
    mixed: list[dataset.Prepared]
    day: date  # the seeded day (local), whose hours --now measures
    agents: list[str] = field(default_factory=list)  # the agents' user names


async def _setup(schema: str, secret: str, plan: Plan, connections: int) -> Data:
    started = time.monotonic()
    day = datetime.now(BERLIN).date()
    await dataset.create_schema(schema)
    # Seeded at the day's first minute: its releases lie before every --now time.
    await dataset.migrate_and_seed(schema, datetime.combine(day, clock_time(0, 1), BERLIN))
    seed_s = time.monotonic() - started
    conn = await dataset.connect(schema)
    try:
        pairs = await dataset.bench_pairs(conn)
        campaign = await dataset.campaign_of(conn)
        spread, hot = pairs[:-CONTENDED_PAIRS], pairs[-CONTENDED_PAIRS:]
        ids = [s for p in hot for s in (p.first[0], p.second[0])]
        await conn.execute(
            "UPDATE slots SET capacity = $1 WHERE id = ANY($2::bigint[])", CONTENDED_CAPACITY, ids
        )
        sizes = [plan.warmup, plan.bookings, plan.raw_bookings, plan.mixed]
        groups, first = [], 0
        for size in sizes:
            groups.append(
                await dataset.prepare_bookings(
                    conn, spread, first=first, count=size, secret=secret, campaign=campaign
                )
            )
            first += size
        contended = await dataset.prepare_bookings(
            conn, hot, first=first, count=connections * 200, secret=secret, campaign=campaign
        )
    finally:
        await conn.close()
    return Data(groups[0], groups[1], contended, groups[2], seed_s, len(pairs), groups[3], day)


def _booking_requests(items: Sequence[dataset.Prepared]) -> list[bytes]:
    return [
        post_json("/api/v1/bookings", p.request_body, {"authorization": f"Bearer {p.token}"})
        for p in items
    ]


def _split(items: Sequence[object], parts: int) -> list[list[object]]:
    return [list(items[i::parts]) for i in range(parts)]


def _measure(
    name: str,
    phase: Phase,
    groups: dict[str, Iterable[int]],
    notes: Sequence[str] = (),
    sample: Callable[[float], Sampler] | None = None,
) -> Outcome:
    """`sample`: starts py-spy on the server for the phase's length (--profile)."""
    phase.wait_ready()
    sampler = sample(phase.seconds) if sample else None
    window = CpuWindow(groups)
    with window:
        result = phase.run()
    phase.close()
    assert window.used is not None
    # The load generator's processes have exited by now: they report their own CPU time.
    cpu = {**window.used, "load generator": result.cpu_s / result.seconds}
    return Outcome(name, result, cpu, list(notes), sampled=sampler.wait() if sampler else [])


def _http(port: int, plans: Sequence[Sequence[bytes]], seconds: float, cycle: bool) -> Phase:
    return Phase(http_worker, plans, port, cycle, seconds=seconds)


def _database_env(schema: str, secret: str) -> dict[str, str]:
    return {
        "KONTINGENT_DATABASE_URL": dataset.PG_URL,
        "KONTINGENT_DATABASE_SCHEMA": schema,
        "KONTINGENT_SECRET_KEY": secret,
    }


def _service_env(
    schema: str, secret: str, source: str | None, rate_limits: bool, redis: bool
) -> dict[str, str]:
    env = {
        **_database_env(schema, secret),
        # All clients come from one address here: the per-address limits would answer 429
        # within a second. --rate-limits keeps the checks but with limits nobody reaches, to
        # measure what checking costs.
        "KONTINGENT_RATE_LIMITS": "true" if rate_limits else "false",
        **(UNREACHABLE_LIMITS if rate_limits else {}),
    }
    if source:  # serve another source tree (an older checkout's src/) for before/after figures
        env["PYTHONPATH"] = source
    if redis:  # as in production: the workers keep their caches in step through Redis
        env["KONTINGENT_REDIS_URL"] = REDIS_URL
        env["KONTINGENT_REDIS_PREFIX"] = f"{schema}:"  # this run's channel and keys only
    return env


def _service(name: str, port: int, env: dict[str, str]) -> Server:
    args = ["serve", "--workers", "2", "--port", str(port), "--no-relay"]
    service = Server(name, [str(BIN / "kontingent"), *args], env, HERE.parent, port=port)
    service.wait_ready(f"http://127.0.0.1:{port}/api/v1/vaccines")
    return service


def _start_servers(env: dict[str, str]) -> tuple[Server, Server]:
    service = _service("service", SERVICE_PORT, env)
    hello = hello_server(HELLO_PORT)
    return service, hello


def _offer_plans(connections: int, centres: int = 27) -> list[list[bytes]]:
    return [
        [get(f"/api/v1/centres/{(c + k) % centres + 1}/offers?vaccine=BNT") for k in range(centres)]
        for c in range(connections)
    ]


def _feed_poll() -> bytes:
    """A feed request carrying the ETag the service gives now (304 while nothing changes)."""
    url = f"http://127.0.0.1:{SERVICE_PORT}/api/v1/availability"
    with urllib.request.urlopen(url, timeout=10) as answer:
        etag = answer.headers["ETag"]
    return get("/api/v1/availability", headers={"if-none-match": etag})


def _run_phases(
    data: Data,
    plan: Plan,
    connections: int,
    schema: str,
    service: Server,
    hello: Server,
    profile: Path | None = None,
) -> tuple[int, list[Outcome]]:
    """(bookings made while warming up, the measured phases)."""
    pg = Postgres()

    def sample(seconds: float) -> Sampler:
        assert profile is not None
        return Sampler(profile, "bookings", service.pids(), seconds)

    srv: dict[str, Iterable[int]] = {"service": service.pids(), "postgres": pg}
    # Warm up: pools filled, statements prepared, caches loaded, in both servers.
    warm = _http(SERVICE_PORT, _split(_booking_requests(data.warmup), connections), 30, False)
    warm_booked = _measure("warm-up", warm, srv).result.statuses.get(201, 0)
    _measure("warm-up", _http(SERVICE_PORT, _offer_plans(connections), 1, True), srv)
    _measure("warm-up", _http(HELLO_PORT, [[get("/")]] * connections, 1, True), srv)

    out = [
        _measure(
            "hello world GET /",
            _http(HELLO_PORT, [[get("/")]] * connections, plan.get_s, True),
            {"hello": hello.pids(), "postgres": pg},
        ),
        _measure(
            "offer reads GET …/offers",
            _http(SERVICE_PORT, _offer_plans(connections), plan.get_s, True),
            srv,
            ["27 centres round-robin; readings kept 1 s, 30 s with Redis (settled TTL)"],
        ),
        _measure(
            "feed reads GET /availability",
            _http(SERVICE_PORT, [[get("/api/v1/availability")]] * connections, plan.get_s, True),
            srv,
            [f"whole answers; rebuilt at most every {FEED_TTL_S} s per worker"],
        ),
        _measure(
            "feed polls (304)",
            _http(SERVICE_PORT, [[_feed_poll()]] * connections, plan.get_s, True),
            srv,
            ["If-None-Match with the current ETag"],
        ),
        *_bookings_and_raw(data, plan, connections, schema, srv, sample if profile else None),
        *_mixed(data, plan, connections, srv),
        _measure(
            "contended bookings",
            _http(
                SERVICE_PORT,
                _split(_booking_requests(data.contended), connections),
                plan.contended_s,
                False,
            ),
            srv,
            [f"{CONTENDED_PAIRS} offers × {CONTENDED_CAPACITY} seats; 409s carry fresh offers"],
        ),
    ]
    return warm_booked, out


def _bookings_and_raw(
    data: Data,
    plan: Plan,
    connections: int,
    schema: str,
    srv: dict[str, Iterable[int]],
    sample: Callable[[float], Sampler] | None,
) -> list[Outcome]:
    """Bookings over HTTP and the raw ceiling in alternating rounds (bench/paired.py): each
    round books its own share of the prepared bookings; the ratio is the rounds' median."""
    books, raws = [], []
    requests = paired.rounds_of(_booking_requests(data.bookings), plan.rounds)
    statements = paired.rounds_of([(p.sql, p.params) for p in data.raw], plan.rounds)
    for booking_round, raw_round in zip(requests, statements, strict=True):
        phase = _http(
            SERVICE_PORT, _split(booking_round, connections), plan.book_s / plan.rounds, False
        )
        books.append(_measure("bookings", phase, srv, sample=sample))
        raw_plans = _split(raw_round, connections)
        raw = Phase(sql_worker, raw_plans, dataset.PG_DSN, schema, seconds=plan.raw_s / plan.rounds)
        raws.append(_measure("raw", raw, {"postgres": srv["postgres"]}))
    ratios = [b.result.rate / r.result.rate for b, r in zip(books, raws, strict=True)]
    quiet = [
        max(paired.others(b.cpu, paired.SERVICE_PATH), paired.others(r.cpu, paired.RAW_PATH))
        < paired.QUIET_CORES
        for b, r in zip(books, raws, strict=True)
    ]
    book, raw_all = _combined("bookings POST /bookings", books), _combined("raw", raws)
    book.raw_ratio, chosen = paired.headline(ratios, quiet)
    cpu_ratio = paired.cpu_ratio(book.cpu, book.result.rate, raw_all.cpu, raw_all.result.rate)
    marks = " ".join(f"{r:.2f}{'' if q else '*'}" for r, q in zip(ratios, quiet, strict=True))
    book.notes = [
        f"distinct persons and offers over {data.pairs} offers",
        f"÷ raw: {chosen}; per round {marks} (* other work ≥ {paired.QUIET_CORES} cores)",
        f"raw CPU per booking ÷ this path's, all rounds: {cpu_ratio:.2f}",
        "bookings/s ÷ raw/s per round: "
        + " ".join(
            f"{b.result.rate:.0f}/{r.result.rate:.0f}" for b, r in zip(books, raws, strict=True)
        ),
    ]
    raw_all.name = "raw ceiling (asyncpg)"
    raw_all.notes = [
        "the service's booking statement, alone in autocommit",
        f"in {plan.rounds} rounds alternating with the bookings'",
    ]
    return [book, raw_all]


def _mixed(
    data: Data, plan: Plan, connections: int, srv: dict[str, Iterable[int]]
) -> list[Outcome]:
    """Web and agent bookings on the same offers at once (bench/agents.py), in rounds
    alternating with web bookings alone (bench/paired.py): the ratio of each pair compares
    two measurements seconds apart on this shared machine."""
    tokens = agents.log_in(SERVICE_PORT, data.agents)
    parts = paired.rounds_of(data.mixed, 2 * plan.rounds)
    seconds = plan.mixed_s / plan.rounds / 2
    webs, mixes = [], []
    for alone, mixed in zip(parts[0::2], parts[1::2], strict=True):
        web = _split(_booking_requests(alone), connections)
        webs.append(_measure("web", _http(SERVICE_PORT, web, seconds, False), srv))
        both = _split(agents.mixed_requests(mixed, tokens), connections)
        mixes.append(_measure("mixed", _http(SERVICE_PORT, both, seconds, False), srv))
    ratios = [m.result.rate / w.result.rate for m, w in zip(mixes, webs, strict=True)]
    quiet = [
        max(paired.others(m.cpu, paired.SERVICE_PATH), paired.others(w.cpu, paired.SERVICE_PATH))
        < paired.QUIET_CORES
        for m, w in zip(mixes, webs, strict=True)
    ]
    alone_all = _combined("web bookings alone, paired", webs)
    mixed_all = _combined("mixed bookings (90 % web, 10 % agent)", mixes)
    ratio, chosen = paired.headline(ratios, quiet)
    marks = " ".join(f"{r:.2f}{'' if q else '*'}" for r, q in zip(ratios, quiet, strict=True))
    alone_all.notes = ["the rounds alternating with the mixed ones, same offers"]
    mixed_all.notes = [
        f"{len(tokens)} agents with bearer tokens, on the same offers as the web's",
        f"÷ web alone {ratio:.2f}: {chosen}; per round {marks}",
    ]
    return [alone_all, mixed_all]


def _combined(name: str, rounds: Sequence[Outcome]) -> Outcome:
    results = [o.result for o in rounds]
    cpu = paired.combined_cpu([o.cpu for o in rounds], [r.seconds for r in results])
    sampled = [f for o in rounds for f in o.sampled]
    return Outcome(name, paired.combined(results), cpu, sampled=sampled)


async def _verify(schema: str, booked_ok: int) -> list[tuple[str, int, int]]:
    """(check, found, expected) rows read from the database after the run."""
    conn = await dataset.connect(schema)
    try:
        over, drift = await dataset.seat_invariants(conn)
        days_drift = await dataset.slot_days_drift(conn)
        bookings = await conn.fetchval("SELECT count(*) FROM bookings WHERE status = 'booked'")
        half = await conn.fetchval(
            """
            SELECT count(*) FROM bookings b
            WHERE (SELECT count(*) FROM appointments a WHERE a.booking_id = b.id) <> 2
               OR (SELECT count(*) FROM persons p WHERE p.booking_id = b.id) <> 1
            """
        )
        sms = await conn.fetchval("SELECT count(*) FROM outbox WHERE channel = 'sms'")
        phoned = await conn.fetchval("SELECT count(*) FROM bookings WHERE channel = 'phone'")
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log a JOIN bookings b ON b.code = a.target "
            "WHERE a.action = 'booking.create' AND b.channel = 'phone'"
        )
    finally:
        await conn.close()
    return [
        ("slots over capacity", over, 0),
        ("slots whose seat count differs from their appointments", drift, 0),
        ("slot_days keys that differ from their slots' sums", days_drift, 0),
        ("bookings without both appointments and their person", half, 0),
        ("bookings stored vs 201 answers + raw bookings", bookings, booked_ok),
        ("confirmation SMS queued vs bookings", sms, bookings),
        ("agent bookings with their audit row vs agent bookings", audited, phoned),
    ]


def _fmt_cpu(cpu: dict[str, float], rate: float) -> str:
    """Cores per group, and CPU milliseconds per request for the servers measured."""
    cores = ", ".join(f"{k} {v:.2f}" for k, v in cpu.items())
    per = [
        f"{k} {1000 * v / rate:.2f}"
        for k, v in cpu.items()
        if k in ("service", "hello", "postgres", "load generator") and rate
    ]
    return f"{cores} | ms/req: {', '.join(per)}"


def _raw_share(o: Outcome, raw_rate: float) -> str:
    if o.raw_ratio is not None:
        return f"{o.raw_ratio:.2f}"
    return f"{o.result.rate / raw_rate:.2f}" if "book" in o.name else ""


def _print_profile(o: Outcome) -> None:
    """Where the service's CPU went in a sampled phase (--profile)."""
    if not o.sampled:
        return
    console.print(f"[bold]{o.name}: the service's CPU by part (py-spy, bench/spy.py)[/bold]")
    measured = 1000 * o.cpu.get("service", 0.0) / o.result.rate if o.result.rate else 0.0
    console.print(spy.report(spy.breakdown(o.sampled), o.result.count, measured))


def _report(outcomes: list[Outcome], checks: list[tuple[str, int, int]], data: Data) -> bool:
    by = {o.name: o for o in outcomes}
    hello = by["hello world GET /"].result.rate
    raw = by["raw ceiling (asyncpg)"].result.rate
    table = Table(title="Kontingent on PostgreSQL, 2 Granian workers, one run (cores used)")
    for col in ("phase", "done", "rate/s", "p50 ms", "p99 ms", "statuses", "÷ hello", "÷ raw"):
        table.add_column(col, justify="left" if col in ("phase", "statuses") else "right")
    table.add_column("CPU (cores) and notes")
    for o in outcomes:
        r = o.result
        statuses = " ".join(f"{k}:{v}" for k, v in sorted(r.statuses.items()))
        if r.errors:
            statuses += f" err:{r.errors}"
        table.add_row(
            o.name,
            str(r.count),
            f"{r.rate:,.0f}",
            f"{r.percentile(50):.1f}",
            f"{r.percentile(99):.1f}",
            statuses,
            f"{r.rate / hello:.2f}",
            _raw_share(o, raw),
            "; ".join([_fmt_cpu(o.cpu, r.rate), *o.notes]),
        )
    console.print(table)
    for o in outcomes:
        _print_profile(o)
    for o in outcomes:
        for status, body in o.result.samples.items():
            if status != 409 or "contended" not in o.name:
                console.print(f"[yellow]{o.name}: a {status} answer[/yellow]: {body[-300:]!r}")
    checks_ok = all(found == want for _, found, want in checks)
    for name, found, want in checks:
        mark = "[green]ok[/green]" if found == want else "[red]FAIL[/red]"
        console.print(f"{mark} {name}: {found} (expected {want})")
    book = by["bookings POST /bookings"].result
    offers = by["offer reads GET …/offers"].result
    aims = [
        (f"bookings ≥ {AIM_BOOKINGS}/s", book.rate >= AIM_BOOKINGS),
        (f"offer reads ≥ {AIM_OFFERS}/s", offers.rate >= AIM_OFFERS),
        (f"p99 < {AIM_P99_MS} ms", max(book.percentile(99), offers.percentile(99)) < AIM_P99_MS),
        (
            f"bookings ≥ {AIM_RAW_SHARE} of the raw ceiling (median of the rounds)",
            (by["bookings POST /bookings"].raw_ratio or 0.0) >= AIM_RAW_SHARE,
        ),
    ]
    for o in outcomes:
        if o.name.startswith("offer reads at "):
            r = o.result
            ok = r.rate / hello >= AIM_OFFERS_HELLO and r.percentile(99) < AIM_OFFERS_P99_MS
            aims.append(
                (f"{o.name}: ≥ {AIM_OFFERS_HELLO} × hello, p99 < {AIM_OFFERS_P99_MS} ms", ok)
            )
    for name, ok in aims:
        console.print(f"{'[green]met[/green]' if ok else '[red]missed[/red]'} aim: {name}")
    console.print(f"seeding took {data.seed_s:.1f} s; {data.pairs} bench offers")
    return checks_ok


def _use_ports(service: int) -> None:
    global SERVICE_PORT, HELLO_PORT  # the phases read them as constants
    SERVICE_PORT, HELLO_PORT = service, service + 1


def _times(text: str) -> list[clock_time]:
    try:
        return [clock_time.fromisoformat(t.strip()) for t in text.split(",") if t.strip()]
    except ValueError:
        raise SystemExit(f"--now takes local times like 07:59,15:30, not {text!r}") from None


def _clocked_offer_reads(
    data: Data, plan: Plan, connections: int, env: dict[str, str], times: Sequence[clock_time]
) -> list[Outcome]:
    """Offer reads at each of `times` on the seeded day: a service (demo mode, the only one
    that takes a clock offset) is started with its clock shifted to that time, warmed up for
    a second and read as the main offer phase is; the main service idles meanwhile."""
    out = []
    for at in times:
        shift = datetime.combine(data.day, at, BERLIN) - datetime.now(UTC)
        clocked = {
            **env,
            "KONTINGENT_DEMO": "true",
            "KONTINGENT_CLOCK_OFFSET_S": f"{shift.total_seconds():.3f}",
        }
        server = _service(f"service-{at:%H%M}", CLOCKED_PORT, clocked)
        try:
            srv: dict[str, Iterable[int]] = {"service": server.pids(), "postgres": Postgres()}
            _measure("warm-up", _http(CLOCKED_PORT, _offer_plans(connections), 1, True), srv)
            phase = _http(CLOCKED_PORT, _offer_plans(connections), plan.get_s, True)
            notes = [f"the service's clock at {data.day} {at:%H:%M} local time"]
            out.append(_measure(f"offer reads at {at:%H:%M}", phase, srv, notes))
        finally:
            server.stop()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short phases (about a minute)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--service-source",
        metavar="DIR",
        help="serve the kontingent package found in DIR (e.g. an older checkout's src/)",
    )
    parser.add_argument(
        "--rate-limits",
        action="store_true",
        help="check the rate limits on every request (limits set out of reach)",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="sample the service with py-spy during the bookings phase (stacks into DIR)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=SERVICE_PORT,
        help="the service's port; the hello-world app takes the next (two runs at once)",
    )
    parser.add_argument(
        "--no-redis",
        action="store_true",
        help="serve without Redis: no cache invalidation between the workers, whose "
        "availability readings then live for the 1 s TTL only",
    )
    parser.add_argument(
        "--now",
        default=DEFAULT_TIMES,
        metavar="HH:MM,...",
        help="also measure offer reads at these local times of the seeded day, each on a "
        f"service in demo mode with its clock shifted there (default {DEFAULT_TIMES}; '' none)",
    )
    args = parser.parse_args(argv)
    _use_ports(args.port)
    plan = Plan.of(args.quick)
    times = _times(args.now)
    schema = f"kt_bench_{secrets.token_hex(4)}"
    secret = secrets.token_urlsafe(32)
    servers: list[Server] = []
    try:
        with console.status("seeding and preparing bookings"):
            data = asyncio.run(_setup(schema, secret, plan, args.connections))
            cli_env = {**os.environ, **_database_env(schema, secret)}
            data.agents = agents.add_agents(BIN / "kontingent", cli_env, HERE.parent)
        with console.status("starting servers"):
            env = _service_env(
                schema, secret, args.service_source, args.rate_limits, not args.no_redis
            )
            servers = list(_start_servers(env))
        with console.status("measuring"):
            warm_booked, outcomes = _run_phases(
                data, plan, args.connections, schema, *servers, profile=args.profile
            )
            outcomes[2:2] = _clocked_offer_reads(data, plan, args.connections, env, times)
        for server in servers:
            server.stop()
        servers = []
        booked = (
            sum(o.result.statuses.get(201, 0) for o in outcomes if o.name != "hello world GET /")
            + warm_booked
        )
        checks = asyncio.run(_verify(schema, booked))
        return 0 if _report(outcomes, checks, data) else 1
    finally:
        for server in servers:
            server.stop()
        asyncio.run(dataset.drop_schema(schema))


if __name__ == "__main__":
    sys.exit(main())
