"""Portal pages per second: the start page and the offers page, rendered by the real server.

    .venv/bin/python bench/pages.py [--seconds 10] [--connections 16] [--workers 2]
                                    [--postgres] [--ttl SECONDS ...] [--baseline TREE]

What it does (see the "Portal pages" section of bench/README.md):
1. starts `kontingent serve --demo` (all 27 demo centres, seeded at the current time) on a
   fresh SQLite file, or with --postgres in a schema of its own in database `test`;
2. walks the journey once per session the way a browser does (eligibility, phone, the PIN
   read from /dev/mailbox, PIN) to get verified flow cookies, one per home district;
3. drives `GET /` and then `GET /choose?vaccine=BNT` (the offers page: home centre first,
   other centres by distance, both dates per offer) with the multi-process load generator of
   bench/loadgen.py, each for a fixed time, every request on a keep-alive connection; then
   the hotline console's offers page, `GET /agent/new/offers?vaccine=BNT` (its step 3, for
   a couple, logged in as the demo agent, one desk per home district), the same way;
4. reports pages per second, p50/p99 latency, status codes and where the CPU went.

Several `--ttl` values, and `--baseline TREE` (another checkout of this repository, e.g. a
`git worktree` of an older commit, served from its `src/` with this virtualenv), run one
server after the other in the same invocation, so their figures are comparable: the table
gives each page's rate as a ratio to the first configuration.

Offers come from the availability cache (one database read per centre and vaccine per
second), as in production; the page rendering (Jinja2, autoescaped) is what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from loadgen import LoadResult, Phase, http_worker
from procs import CpuWindow, Server

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PORT = 19250  # apart from bench/rush (19200) and bench/booking.py (19100)
PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# Postcodes of demo centres' districts: Bielefeld, Münster, Dortmund, Paderborn.
POSTCODES = ("33602", "48155", "44139", "33098")
console = Console(width=160)


def _request(path: str, cookie: str = "") -> bytes:
    extra = f"cookie: {cookie}\r\n" if cookie else ""
    return f"GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n{extra}\r\n".encode()


def _token(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _verified_cookie(base: str, postcode: str, number: str) -> str:
    """One journey up to the offers page; the cookies a browser would then send."""
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as client:
        token = _token(client.get("/eligibility").text)
        steps = [
            ("/eligibility", {"birth_date": "01.05.1939", "postcode": postcode}),
            ("/phone", {"phone": number}),
        ]
        for path, form in steps:
            answer = client.post(path, data={**form, "_csrf_token": token})
            answer.raise_for_status()
        mailbox = client.get("/dev/mailbox", params={"to": number}).text
        pin = re.search(r"\b(\d{6})\b", mailbox.split('class="message-body"', 1)[-1])
        if pin is None:
            raise RuntimeError(f"no PIN for {number} in the dev mailbox")
        offers = client.post("/pin", data={"pin": pin.group(1), "_csrf_token": token})
        if "Wählen Sie Ihre Termine" not in offers.text:
            raise RuntimeError("the PIN did not lead to the offers page")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def _agent_cookie(base: str, log: Path, postcode: str) -> str:
    """The demo agent logged in, step 1 of a couple's booking sent: the console's cookies."""
    found = re.search(r"demo-agent\s+password: (\S+)", log.read_text())
    if found is None:
        raise RuntimeError("the demo agent's password is not in the server's log")
    with httpx.Client(base_url=base, timeout=30, follow_redirects=True) as client:
        token = _token(client.get("/staff/login").text)
        form = {"username": "demo-agent", "password": found.group(1), "_csrf_token": token}
        client.post("/staff/login", data=form).raise_for_status()
        token = _token(client.get("/agent/new").text)
        step = {"birth_date": "01.05.1939", "p1.birth_date": "12.12.1938", "postcode": postcode}
        answer = client.post("/agent/new", data={**step, "_csrf_token": token})
        if "/agent/new/check" not in str(answer.url):
            raise RuntimeError("step 1 of the console did not lead to step 2")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def _plans(requests: Sequence[bytes], connections: int) -> list[list[bytes]]:
    """Each connection cycles through all requests, starting at a different one."""
    n = len(requests)
    return [[requests[(c + k) % n] for k in range(n)] for c in range(connections)]


def _phase(
    name: str, requests: Sequence[bytes], args: argparse.Namespace, server: Server
) -> tuple[str, LoadResult, dict[str, float]]:
    phase = Phase(
        http_worker,
        _plans(requests, args.connections),
        PORT,
        True,
        processes=args.load_processes,
        seconds=args.seconds,
    )
    phase.wait_ready()
    window = CpuWindow({"server": server.pids()})
    with window:
        result = phase.run()
    phase.close()
    assert window.used is not None
    cpu = {**window.used, "load generator": result.cpu_s / max(result.seconds, 1e-9)}
    return name, result, cpu


Row = tuple[str, str, LoadResult, dict[str, float]]  # configuration, page, result, CPU


def _report(rows: list[Row], args: argparse.Namespace) -> bool:
    table = Table(
        title=f"Portal pages: {args.workers} server worker(s), {args.connections} connections, "
        f"{'PostgreSQL' if args.postgres else 'SQLite'}"
    )
    # Per server core as well: on a shared machine the server's share of the CPU drifts
    # between configurations, and pages per core-second drifts less.
    columns = ("server", "page", "pages/s", "vs first", "per core", "vs first ", "p50 ms")
    columns = (*columns, "p99 ms", "requests")
    for column in (*columns, "statuses", "CPU (cores)"):
        table.add_column(column, justify="left" if column in ("server", "page") else "right")
    ok = True
    first: dict[str, tuple[float, float]] = {}
    for config, page, result, cpu in rows:
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result.statuses.items()))
        ok = ok and set(result.statuses) == {200} and result.errors == 0
        per_core = result.rate / max(cpu.get("server", 0.0), 1e-9)
        base, base_core = first.setdefault(page, (result.rate, per_core))
        table.add_row(
            config,
            page,
            f"{result.rate:,.0f}",
            f"{result.rate / base:.2f}x" if base else "-",
            f"{per_core:,.0f}",
            f"{per_core / base_core:.2f}x" if base_core else "-",
            f"{result.percentile(50):.1f}",
            f"{result.percentile(99):.1f}",
            f"{result.count:,}",
            statuses + (f", errors: {result.errors}" if result.errors else ""),
            ", ".join(f"{k} {v:.2f}" for k, v in cpu.items()),
        )
    console.print(table)
    if not ok:
        console.print("[red]some answers were not 200: see the statuses column[/red]")
    return ok


def _start(
    args: argparse.Namespace, folder: Path, ttl: float | None, tree: Path | None
) -> tuple[Server, dict[str, str], str | None]:
    # No rate limits: one demo agent asks for thousands of offer pages a second here.
    env = {"KONTINGENT_LOG_LEVEL": "warning", "KONTINGENT_RATE_LIMITS": "false"}
    if ttl is not None:
        env["KONTINGENT_AVAILABILITY_TTL_S"] = str(ttl)
    if tree is not None:  # its package shadows the one installed (editable) in the venv
        env["PYTHONPATH"] = str(tree / "src")
    schema = None
    if args.postgres:
        schema = f"kt_pages_{secrets.token_hex(4)}"
        asyncio.run(_schema(f'CREATE SCHEMA "{schema}"'))
        env |= {"KONTINGENT_DATABASE_URL": PG_URL, "KONTINGENT_DATABASE_SCHEMA": schema}
    else:
        env["KONTINGENT_DATABASE_URL"] = f"sqlite+aiosqlite:///{folder / 'pages.sqlite3'}"
    command = [str(BIN / "kontingent"), "serve", "--demo", "--port", str(PORT)]
    server = Server("portal", [*command, "--workers", str(args.workers)], env, folder, port=PORT)
    server.wait_ready(f"http://127.0.0.1:{PORT}/api/v1/vaccines", timeout=180)
    return server, env, schema


async def _schema(statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/test")
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


def _measure(
    args: argparse.Namespace, config: str, ttl: float | None, tree: Path | None
) -> list[Row]:
    """Start one server, walk the journeys, drive both pages; stop it again."""
    folder = Path(tempfile.mkdtemp(prefix="kontingent-pages-"))
    server, _, schema = _start(args, folder, ttl, tree)
    try:
        base = f"http://127.0.0.1:{PORT}"
        cookies = [
            _verified_cookie(base, postcode, f"+4917055{i:05d}")
            for i, postcode in enumerate(POSTCODES)
        ]
        desks = [_agent_cookie(base, server.log, postcode) for postcode in POSTCODES]
        phases = [
            ("start page  GET /", [_request("/")]),
            ("offers page GET /choose", [_request("/choose?vaccine=BNT", c) for c in cookies]),
            (
                "agent offers GET /agent/new/offers",
                [_request("/agent/new/offers?vaccine=BNT", c) for c in desks],
            ),
        ]
        rows = []
        for page, requests in phases:
            _, result, cpu = _phase(page, requests, args, server)
            rows.append((config, page, result, cpu))
        return rows
    finally:
        server.stop()
        if schema is not None:
            asyncio.run(_schema(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--load-processes", type=int, default=1)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument(
        "--ttl",
        type=float,
        action="append",
        help="availability cache seconds (default: the service's); repeat to compare",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout to measure first, with the first --ttl (its src/ is served)",
    )
    args = parser.parse_args(argv)
    ttls: list[float | None] = list(args.ttl or [None])
    configs: list[tuple[str, float | None, Path | None]] = []
    if args.baseline is not None:
        configs.append((f"baseline, cache {_ttl_text(ttls[0])}", ttls[0], args.baseline))
    configs += [(f"this tree, cache {_ttl_text(t)}", t, None) for t in ttls]
    rows: list[Row] = []
    for config, ttl, tree in configs:
        rows += _measure(args, config, ttl, tree)
    return 0 if _report(rows, args) else 1


def _ttl_text(ttl: float | None) -> str:
    return "default" if ttl is None else f"{ttl:g} s"


if __name__ == "__main__":
    sys.exit(main())
