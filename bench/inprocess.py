"""The service's own CPU per admitted booking, measured in process: the ASGI app called
directly, without Granian, sockets or a load generator, so that a change to the booking
path shows through the noise that the full stack's figures carry on this shared machine.

    .venv/bin/python bench/inprocess.py                        # this tree, 3 rounds
    .venv/bin/python bench/inprocess.py --compare /tmp/old/src # vs another tree's src/
    .venv/bin/python bench/inprocess.py --warm                 # slots in fresh readings

What it does:
1. its own PostgreSQL schema (the demo seeded now, as bench/booking.py seeds it) and an
   empty Redis database of its own (`--redis-db`, emptied at the end);
2. per round, a child process per tree (alternating, so both see the same minutes of the
   machine) builds the app as `kontingent serve` does in production mode: PostgreSQL,
   Redis for rate limits, waiting room and cache invalidation, the room on and open;
3. the child sends `--bookings` booking requests, 32 in flight, each with its verified
   phone's token and an admission signed by the room's own `tokens.sign`, as after a poll
   said "admitted"; each books a different offer;
4. it reports the process's CPU time per booking (user + system, the Redis invalidation
   and room refresh tasks included) and the answers' status codes.

By default no offers are read first, as in the rush's loadgen phase, so a booking finds its
slots in no availability reading; `--warm` reads every centre's offers first.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

HERE = Path(__file__).resolve().parent
IN_FLIGHT = 32
WARM_UP = 200  # bookings sent before the measured ones: pools filled, statements prepared
CHILD_S = 90  # a round's process is killed after this long
RESULT = "inprocess_result"  # marks the child's result line among its log lines


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bookings", type=int, default=3000, help="measured bookings per round")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warm", action="store_true", help="read every centre's offers first")
    p.add_argument("--compare", help="another tree's src/ to measure alternately")
    p.add_argument("--profile", help="cProfile the measured bookings of each round into FILE.N")
    p.add_argument("--redis-db", type=int, default=7, help="an empty Redis database")
    p.add_argument("--child", nargs=2, metavar=("SCHEMA", "FIRST"), help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _environment(schema: str, secret: str, redis_db: int) -> dict[str, str]:
    import stack  # bench/rush: the rush's production-mode settings

    opening = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 60))
    return stack.base_env(
        schema,
        secret,
        redis_db,
        {
            "KONTINGENT_WAITING_ROOM_MODE": "scheduled",
            "KONTINGENT_WAITING_ROOM_OPENS_AT": opening,
            "KONTINGENT_AVAILABILITY_TTL_S": "10",
            "KONTINGENT_EMBEDDED_RELAY": "false",  # the relay is a process of its own
            "KONTINGENT_SMS_GATEWAY_URL": "http://127.0.0.1:9/sms",
            # one client address here, a few hundred thousand on the real morning
            "KONTINGENT_RATE_BOOKING_PER_IP": "off",
            "KONTINGENT_RATE_OFFERS_PER_IP": "off",
        },
    )


async def _call(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes
) -> int:
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [*headers, (b"host", b"127.0.0.1"), (b"content-length", b"%d" % len(body))],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    received = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        if received:  # the app waits for a disconnect only after it answered
            await asyncio.Event().wait()
        received = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _child(schema: str, secret: str, first: int, args: argparse.Namespace) -> None:
    import dataset
    from kontingent.asgi import from_environment
    from kontingent.waiting_room import tokens

    conn = await dataset.connect(schema)
    try:
        pairs = await dataset.bench_pairs(conn)
        campaign = await dataset.campaign_of(conn)
        prepared = await dataset.prepare_bookings(
            conn,
            pairs,
            first=first,
            count=WARM_UP + args.bookings,
            secret=secret,
            campaign=campaign,
        )
    finally:
        await conn.close()
    expires = time.time() + 900
    requests = [
        (
            [
                (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {p.token}".encode()),
                (b"x-admission", tokens.sign(secret, tokens.new_ticket(), expires).encode()),
            ],
            p.request_body,
        )
        for p in prepared
    ]
    app = from_environment()
    statuses: dict[int, int] = {}
    async with app.lifespan():
        if args.warm:
            for centre in {p.centre_id for p in pairs}:
                await _call(app, "GET", f"/api/v1/centres/{centre}/offers?vaccine=BNT", [], b"")

        async def send_all(batch: list[tuple[list[tuple[bytes, bytes]], bytes]]) -> None:
            todo = iter(batch)

            async def one_at_a_time() -> None:
                for headers, body in todo:
                    status = await _call(app, "POST", "/api/v1/bookings", headers, body)
                    statuses[status] = statuses.get(status, 0) + 1

            await asyncio.gather(*(one_at_a_time() for _ in range(IN_FLIGHT)))

        await send_all(requests[:WARM_UP])
        statuses.clear()
        profile = cProfile.Profile() if args.profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profile is not None:
            profile.enable()
        await send_all(requests[WARM_UP:])
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if profile is not None:
            profile.disable()
            profile.dump_stats(f"{args.profile}.{first}")
        result = {"cpu_ms": 1000 * cpu / args.bookings, "rate": args.bookings / wall}
        # Told before the shutdown: trees before 59685ce could hang in it (see _round).
        print(json.dumps({RESULT: {**result, "statuses": statuses}}), flush=True)


def _round(
    schema: str, secret: str, first: int, source: str | None, args: argparse.Namespace
) -> dict[str, Any]:
    env = {**os.environ, **_environment(schema, secret, args.redis_db)}
    if source:
        env["PYTHONPATH"] = source
    command = [
        sys.executable,
        __file__,
        "--bookings",
        str(args.bookings),
        "--redis-db",
        str(args.redis_db),
    ]
    command += ["--child", schema, str(first)] + (["--warm"] if args.warm else [])
    command += ["--profile", args.profile] if args.profile else []
    try:
        out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=CHILD_S)
        stdout, stderr = out.stdout, out.stderr
    except subprocess.TimeoutExpired as exc:  # killed; an older tree may hang at shutdown
        stdout, stderr = _text(exc.stdout), _text(exc.stderr)
    for line in stdout.splitlines():
        if line.startswith(f'{{"{RESULT}"'):
            result: dict[str, Any] = json.loads(line)[RESULT]
            return result
    raise RuntimeError(f"a round gave no result:\n{stderr[-3000:]}")


def _text(output: bytes | str | None) -> str:
    return output.decode() if isinstance(output, bytes) else output or ""


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    sys.path[:0] = [str(HERE), str(HERE / "rush")]
    if args.child:
        schema, first = args.child
        secret = os.environ["KONTINGENT_SECRET_KEY"]  # (a secret may begin with "-")
        import uvloop

        uvloop.run(_child(schema, secret, int(first), args))
        return 0
    import stack

    import dataset

    schema, secret = f"kt_inproc_{secrets.token_hex(4)}", secrets.token_urlsafe(32)
    trees = {
        "this tree": None,
        **({f"--compare {args.compare}": args.compare} if args.compare else {}),
    }
    stack.claim_redis_db(args.redis_db)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    try:
        print(f"seeding {schema}", flush=True)
        asyncio.run(dataset.create_schema(schema))
        asyncio.run(dataset.migrate_and_seed(schema))
        first = 0
        for n in range(args.rounds):
            for name, source in trees.items():
                r = _round(schema, secret, first, source, args)
                first += WARM_UP + args.bookings
                stack.release_redis_db(args.redis_db)
                results[name].append(r)
                print(
                    f"round {n + 1} {name}: {r['cpu_ms']:.3f} ms of CPU per booking, "
                    f"{r['rate']:.0f}/s, answers {r['statuses']}",
                    flush=True,
                )
    finally:
        asyncio.run(dataset.drop_schema(schema))
        stack.release_redis_db(args.redis_db)
    readings = "offers read first (--warm)" if args.warm else "no offers read first"
    print(f"\nCPU per admitted booking in process, {args.bookings} bookings a round, {readings}:")
    for name, rs in results.items():
        cpus = [r["cpu_ms"] for r in rs]
        each = ", ".join(f"{c:.3f}" for c in cpus)
        print(f"  {name}: median {median(cpus):.3f} ms (rounds: {each})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
