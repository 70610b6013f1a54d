"""The portal's and the agent console's offers pages, their CPU per page measured in process:
the ASGI app called directly (no Granian, sockets or load generator), so the difference
between the two pages shows through the noise of a shared machine, and cProfile can say
where it goes.

    .venv/bin/python bench/pages_inprocess.py                      # 3 rounds of 2,000 each
    .venv/bin/python bench/pages_inprocess.py --profile /tmp/pages  # + /tmp/pages.<page>.prof
    .venv/bin/python bench/pages_inprocess.py --compare /tmp/old/src  # another tree's src/

What it does, as bench/pages.py does with a server:
1. a fresh SQLite file with the whole demo (27 centres, seeded now), demo mode, no rate
   limits; an agent account of its own;
2. walks the portal's journey once per home district (eligibility, phone, the PIN from the
   dev mailbox) and the console's step 1 for a couple, once per district, through the app;
3. per round, asks each page `--requests` times, 16 at a time, and reports the process's
   CPU milliseconds per page (user + system) and pages per CPU second; the availability
   cache's default TTL applies, as in production.

With `--compare TREE`, each round runs one child process per tree, alternately.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median
from typing import Any

HERE = Path(__file__).resolve().parent
IN_FLIGHT = 16
WARM_UP = 200
POSTCODES = ("33602", "48155", "44139", "33098")  # as bench/pages.py
RESULT = "pages_inprocess_result"
PAGES = {
    "portal": "/choose?vaccine=BNT",
    "console": "/agent/new/offers?vaccine=BNT",
}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=2000, help="measured pages per page and round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--compare", help="another tree's src/ to measure alternately")
    p.add_argument("--profile", help="cProfile each page's measured requests into FILE.<page>")
    p.add_argument("--child", metavar="DATABASE", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _environment(database: Path) -> dict[str, str]:
    return {
        "KONTINGENT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "KONTINGENT_DEMO": "true",
        "KONTINGENT_RATE_LIMITS": "false",
        "KONTINGENT_LOG_LEVEL": "warning",
        "KONTINGENT_SECRET_KEY": "bench-pages-inprocess-" + "x" * 32,
    }


async def _call(app: Any, path: str, cookie: str) -> tuple[int, int]:
    """One GET through the ASGI app: its status and body length."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    received = False
    status = size = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:
            await asyncio.Event().wait()
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, size
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            size += len(message.get("body", b""))

    await app(scope, receive, send)
    return status, size


def _token(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


def _cookies(client: Any) -> str:
    return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def _portal_cookie(app: Any, postcode: str, number: str) -> str:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", follow_redirects=True
    ) as client:
        token = _token((await client.get("/eligibility")).text)
        form = {"birth_date": "01.05.1939", "postcode": postcode, "_csrf_token": token}
        (await client.post("/eligibility", data=form)).raise_for_status()
        form = {"phone": number, "_csrf_token": token}
        (await client.post("/phone", data=form)).raise_for_status()
        pin = None
        for _ in range(100):  # the embedded relay delivers the PIN to the dev mailbox
            mailbox = (await client.get("/dev/mailbox", params={"to": number})).text
            pin = re.search(r"\b(\d{6})\b", mailbox.split('class="message-body"', 1)[-1])
            if pin is not None:
                break
            await asyncio.sleep(0.1)
        if pin is None:
            raise RuntimeError(f"no PIN for {number} in the dev mailbox")
        offers = await client.post("/pin", data={"pin": pin.group(1), "_csrf_token": token})
        if "Wählen Sie Ihre Termine" not in offers.text:
            raise RuntimeError("the PIN did not lead to the offers page")
        return _cookies(client)


async def _console_cookie(app: Any, postcode: str, password: str) -> str:
    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://127.0.0.1", follow_redirects=True
    ) as client:
        token = _token((await client.get("/staff/login")).text)
        form = {"username": "bench-agent", "password": password, "_csrf_token": token}
        (await client.post("/staff/login", data=form)).raise_for_status()
        token = _token((await client.get("/agent/new")).text)
        step = {"birth_date": "01.05.1939", "p1.birth_date": "12.12.1938", "postcode": postcode}
        answer = await client.post("/agent/new", data={**step, "_csrf_token": token})
        if "/agent/new/check" not in str(answer.url):
            raise RuntimeError("step 1 of the console did not lead to step 2")
        return _cookies(client)


async def _drive(app: Any, requests: list[tuple[str, str]]) -> dict[int, int]:
    todo = iter(requests)
    statuses: dict[int, int] = {}

    async def one_at_a_time() -> None:
        for path, cookie in todo:
            status, _ = await _call(app, path, cookie)
            statuses[status] = statuses.get(status, 0) + 1

    await asyncio.gather(*(one_at_a_time() for _ in range(IN_FLIGHT)))
    return statuses


async def _child(database: Path, args: argparse.Namespace) -> None:
    from kontingent.asgi import from_environment
    from kontingent.staff.audit import Actor, Channel, Entry
    from kontingent.staff.model import Role

    app = from_environment()
    services = app.state.services
    async with app.lifespan():
        password = secrets.token_urlsafe(16)  # a fresh database each round: a new account
        entry = Entry(Actor("cli:bench"), "", Channel.cli)
        await services.staff.add_user("bench-agent", Role.agent, password, [], entry)
        cookies = {
            "portal": [
                await _portal_cookie(app, p, f"+4917066{i:05d}") for i, p in enumerate(POSTCODES)
            ],
            "console": [await _console_cookie(app, p, password) for p in POSTCODES],
        }
        result: dict[str, Any] = {}
        for page, path in PAGES.items():
            status, size = await _call(app, path, cookies[page][0])
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
            requests = [(path, cookies[page][i % len(POSTCODES)]) for i in range(args.requests)]
            await _drive(app, requests[:WARM_UP])
            profile = cProfile.Profile() if args.profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profile is not None:
                profile.enable()
            statuses = await _drive(app, requests)
            if profile is not None:
                profile.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profile is not None:
                profile.dump_stats(f"{args.profile}.{page}.prof")
            result[page] = {
                "cpu_ms": 1000 * cpu / args.requests,
                "rate": args.requests / wall,
                "bytes": size,
                "statuses": statuses,
            }
        print(json.dumps({RESULT: result}), flush=True)


def _round(database: Path, source: str | None, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, **_environment(database)}
    if source:
        env["PYTHONPATH"] = source
    command = [sys.executable, __file__, "--child", str(database)]
    command += ["--requests", str(args.requests)]
    command += ["--profile", args.profile] if args.profile else []
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    for line in done.stdout.splitlines():
        if RESULT in line:
            found: dict[str, Any] = json.loads(line)[RESULT]
            return found
    raise RuntimeError(f"the child failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def _seed(database: Path) -> None:
    """The demo on a fresh SQLite file, as `kontingent serve --demo` seeds it."""
    env = {**os.environ, **_environment(database)}
    binary = Path(sys.executable).parent / "kontingent"
    for command in (["migrate"], ["seed", "--demo"]):
        subprocess.run([str(binary), *command], env=env, check=True, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.child:
        asyncio.run(_child(Path(args.child), args))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="kontingent-pages-inprocess-"))
    try:
        trees: list[tuple[str, str | None]] = [("this tree", None)]
        if args.compare:
            trees.insert(0, ("compared", args.compare))
        databases = {}
        for name, _ in trees:
            databases[name] = folder / f"{name.replace(' ', '-')}.sqlite3"
            _seed(databases[name])
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
        for n in range(args.rounds):
            for name, source in trees:
                fresh = folder / f"round-{n}-{databases[name].name}"  # no PIN sent before
                shutil.copy(databases[name], fresh)
                found = _round(fresh, source, args)
                rows[name].append(found)
                line = ", ".join(
                    f"{page} {r['cpu_ms']:.2f} ms CPU/page ({1000 / r['cpu_ms']:.0f}/CPU-s, "
                    f"{r['bytes']:,} bytes, {r['statuses']})"
                    for page, r in found.items()
                )
                print(f"round {n + 1}, {name}: {line}", flush=True)
        for name, results in rows.items():
            portal = median(r["portal"]["cpu_ms"] for r in results)
            agent = median(r["console"]["cpu_ms"] for r in results)
            print(
                f"{name}, median of {len(results)}: portal {portal:.2f} ms, console "
                f"{agent:.2f} ms CPU per page; console/portal rate {portal / agent:.2f}x"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
