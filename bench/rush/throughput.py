"""Queue joins, status polls and admitted bookings at the highest rate this machine allows,
driven by bench/loadgen.py (2 processes of keep-alive connections on uvloop, one request in flight
each), not by Locust: Locust's Python users cost ~1 ms of CPU per request, which on two
shared cores would measure Locust, not the service.

Joins are `POST /api/v1/queue` from fresh visitors; polls are `GET /api/v1/queue/{ticket}`
round-robin over tickets joined beforehand, as waiting people refresh their queue page.
Admitted bookings are `POST /api/v1/bookings` as bench/booking.py sends them (a verified
phone and its token per booking, stored by bench/dataset.py, each its own offer), plus the
admission token a waiting room hands out: signed with the server's key by the waiting room's
own `tokens.sign`, one ticket per booking, as after `GET /api/v1/queue/{ticket}` said
"admitted". So the phase measures the booking path of production mode (admission check,
rate limits in Redis, cache invalidation through Redis, the relay running) at its limit.
CPU per request is read per process group (service, Redis, PostgreSQL, load generator).
A plain Granian hello-world under the same load generator goes first (`hello_world`): the
report divides each rate by its rate, which stays comparable from one hour to the next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import httpx

import dataset
from kontingent.waiting_room import tokens
from loadgen import LoadResult, Phase, get, http_worker, post_json
from procs import CpuWindow, hello_server

JOIN = "/api/v1/queue"
HELLO = "hello world (reference)"


@dataclass
class Measured:
    name: str
    result: LoadResult
    cpu: dict[str, float]  # cores used during the phase, per process group

    def ms_per_request(self, group: str) -> float:
        rate = self.result.rate
        if not rate or group not in self.cpu:  # (the hello-world phase reads no service)
            return float("nan")
        return 1000 * self.cpu[group] / rate


def measure(
    name: str,
    port: int,
    plans: Sequence[Sequence[bytes]],
    seconds: float,
    groups: Mapping[str, Iterable[int]],
    cycle: bool = True,
) -> Measured:
    """`cycle`: send each connection's requests round and round (reads), or once (writes)."""
    phase = Phase(http_worker, plans, port, cycle, seconds=seconds)
    try:
        phase.wait_ready()
        window = CpuWindow(groups)
        with window:
            result = phase.run()
    finally:
        phase.close()
    assert window.used is not None
    return Measured(name, result, {**window.used, "load generator": result.cpu_s / result.seconds})


def hello_world(port: int, connections: int, seconds: float) -> Measured:
    """The reference phase: a plain Granian hello-world (bench/hello.py, 2 workers, served
    as `kontingent serve` serves) under the same load generator, just before the others.
    Absolute rates on this shared machine drift by up to 2x between hours; the service's
    rates divided by this one, measured minutes apart, do not."""
    hello = hello_server(port)
    try:
        plans = [[get("/")] for _ in range(connections)]
        return measure(HELLO, port, plans, seconds, {"hello": hello.pids()})
    finally:
        hello.stop()


def join_plans(connections: int) -> list[list[bytes]]:
    return [[post_json(JOIN, b"{}", {})] for _ in range(connections)]


def poll_plans(tickets: Sequence[str], connections: int) -> list[list[bytes]]:
    requests = [get(f"{JOIN}/{t}") for t in tickets]
    return [requests[i::connections] for i in range(connections)]


async def join_many(url: str, count: int, concurrency: int = 16) -> list[str]:
    """Tickets of `count` fresh joins, for the poll phase."""
    tickets: list[str] = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def worker(n: int) -> None:
            for _ in range(n):
                r = await client.post(JOIN, json={})
                if r.status_code in (200, 201):
                    tickets.append(r.json()["ticket"])

        share = [count // concurrency + (i < count % concurrency) for i in range(concurrency)]
        await asyncio.gather(*(worker(n) for n in share))
    return tickets


async def admitted_bookings(schema: str, secret: str, count: int) -> list[bytes]:
    """Prepared booking requests with their admission; raises BNT seats to
    `dataset.BENCH_CAPACITY` from tomorrow on (the reset between runs puts them back)."""
    conn = await dataset.connect(schema)
    try:
        pairs = await dataset.bench_pairs(conn)
        campaign = await dataset.campaign_of(conn)
        prepared = await dataset.prepare_bookings(
            conn, pairs, first=0, count=count, secret=secret, campaign=campaign
        )
    finally:
        await conn.close()
    expires = time.time() + 900
    return [
        post_json(
            "/api/v1/bookings",
            p.request_body,
            {
                "authorization": f"Bearer {p.token}",
                "x-admission": tokens.sign(secret, tokens.new_ticket(), expires),
            },
        )
        for p in prepared
    ]


def booking_plans(requests: Sequence[bytes], connections: int) -> list[list[bytes]]:
    return [list(requests[i::connections]) for i in range(connections)]
