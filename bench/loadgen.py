"""A cheap HTTP/1.1 load generator: keep-alive connections on uvloop, one request in flight each.

Why not httpx or aiohttp: the load generator shares the 2 cores with the server and the
database, so every microsecond it spends is taken from what it measures. A bare
`asyncio.Protocol` that writes prepared request bytes and reads `content-length` costs a few
microseconds per request, which keeps the client's own share of the CPU small and visible.

Each worker process runs `connections` connections; each connection sends its own list of
prepared requests in order (once, or round and round until the deadline), records the latency
of every response in microseconds and counts the status codes. All workers wait on one start
event, so connecting is not measured. Every run is bounded both in requests and in time.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import time
from array import array
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.synchronize import Event
from typing import Any

import uvloop


def get(path: str, host: str = "127.0.0.1", headers: dict[str, str] | None = None) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return f"GET {path} HTTP/1.1\r\nhost: {host}\r\n{head}\r\n".encode()


def post_json(path: str, body: bytes, headers: dict[str, str], host: str = "127.0.0.1") -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (
        f"POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\n{head}\r\n"
    ).encode() + body


@dataclass
class WorkerResult:
    """What one worker process measured; latencies in microseconds."""

    latencies_us: array[int] = field(default_factory=lambda: array("I"))
    statuses: Counter[int] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    cpu_s: float = 0.0
    errors: int = 0
    samples: dict[int, bytes] = field(default_factory=dict)  # one body per non-2xx status


class _Connection(asyncio.Protocol):
    def __init__(
        self, requests: Sequence[bytes], cycle: bool, deadline: float, out: WorkerResult
    ) -> None:
        self.requests, self.cycle, self.deadline, self.out = requests, cycle, deadline, out
        self.next = 0
        self.buf = b""
        self.need = -1
        self.sent_at = 0.0
        self.status = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is no subclass

    def start(self) -> None:
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        if self.next >= len(self.requests):
            if not self.cycle or not self.requests:
                self._finish()
                return
            self.next = 0
        now = time.monotonic()
        if now >= self.deadline:
            self._finish()
            return
        self.sent_at = now
        self.transport.write(self.requests[self.next])
        self.next += 1

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            if self.need < 0:
                end = self.buf.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = self.buf[:end].lower()
                self.status = int(self.buf[9:12])
                at = head.find(b"content-length:")
                if at < 0 and self.status in (204, 304):  # answers that never carry a body
                    length = 0
                elif at < 0:  # every other response here has a length; else it is an error
                    self.out.errors += 1
                    self._finish()
                    return
                else:
                    stop = head.find(b"\r\n", at)
                    length = int(head[at + 15 : stop if stop >= 0 else len(head)])
                self.need = end + 4 + length
            if len(self.buf) < self.need:
                return
            body, self.buf = self.buf[: self.need], self.buf[self.need :]
            self.need = -1
            self._record(body)
            self._send()

    def _record(self, response: bytes) -> None:
        self.out.latencies_us.append(int((time.monotonic() - self.sent_at) * 1e6))
        self.out.statuses[self.status] += 1
        if self.status >= 300 and self.status != 304 and self.status not in self.out.samples:
            self.out.samples[self.status] = response[-600:]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.out.errors += 1
            self.done.set_result(None)

    def _finish(self) -> None:
        if self.transport is not None:
            self.transport.close()
        if not self.done.done():
            self.done.set_result(None)


async def _drive(
    port: int,
    plans: Sequence[Sequence[bytes]],
    cycle: bool,
    seconds: float,
    ready: Event,
    go: Event,
) -> WorkerResult:
    loop = asyncio.get_running_loop()
    out = WorkerResult()
    conns: list[_Connection] = []
    for plan in plans:
        _, proto = await loop.create_connection(
            lambda plan=plan: _Connection(plan, cycle, float("inf"), out), "127.0.0.1", port
        )
        conns.append(proto)
    ready.set()
    await loop.run_in_executor(None, go.wait)
    cpu0 = time.process_time()
    out.started = time.monotonic()
    for conn in conns:
        conn.deadline = out.started + seconds
        conn.start()
    await asyncio.gather(*(c.done for c in conns))
    out.finished = time.monotonic()
    out.cpu_s = time.process_time() - cpu0
    return out


def http_worker(
    plans: Sequence[Sequence[bytes]],
    seconds: float,
    ready: Event,
    go: Event,
    results: mp.Queue[WorkerResult],
    port: int,
    cycle: bool,
) -> None:
    """One load generator process: `plans` are the request lists of its connections."""
    results.put(uvloop.run(_drive(port, plans, cycle, seconds, ready, go)))


@dataclass
class LoadResult:
    """The merged result of all workers of one phase."""

    count: int
    seconds: float
    statuses: Counter[int]
    latencies_us: list[int]
    cpu_s: float
    errors: int
    samples: dict[int, bytes]

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies_us:
            return float("nan")
        i = min(len(self.latencies_us) - 1, int(p / 100 * len(self.latencies_us)))
        return self.latencies_us[i] / 1000


def merge(parts: Sequence[WorkerResult]) -> LoadResult:
    latencies = sorted(x for p in parts for x in p.latencies_us)
    statuses: Counter[int] = Counter()
    samples: dict[int, bytes] = {}
    for p in parts:
        statuses.update(p.statuses)
        for k, v in p.samples.items():
            samples.setdefault(k, v)
    started = min(p.started for p in parts)
    finished = max(p.finished for p in parts)
    return LoadResult(
        count=len(latencies),
        seconds=finished - started,
        statuses=statuses,
        latencies_us=latencies,
        cpu_s=sum(p.cpu_s for p in parts),
        errors=sum(p.errors for p in parts),
        samples=samples,
    )


class Phase:
    """Worker processes connected and waiting; `run()` releases them and collects the result.

    `target(plans, seconds, ready, go, results, *extra)` runs in each process with its share
    of `plans`, sets `ready` once connected, waits for `go` and puts one WorkerResult.

    Starting the processes before measuring keeps their start-up (and the pickling of the
    prepared requests) out of the measured interval and out of the CPU readings.
    """

    def __init__(
        self,
        target: Callable[..., None],
        plans: Sequence[Sequence[Any]],
        *extra: Any,
        processes: int = 2,
        seconds: float = 10.0,
    ) -> None:
        ctx = mp.get_context("spawn")
        self._go = ctx.Event()
        self._results: mp.Queue[WorkerResult] = ctx.Queue()
        self._readies = []
        self._procs = []
        for i in range(processes):
            ready = ctx.Event()
            share = [plans[j] for j in range(i, len(plans), processes)]
            proc = ctx.Process(
                target=target,
                args=(share, seconds, ready, self._go, self._results, *extra),
                daemon=True,
            )
            proc.start()
            self._readies.append(ready)
            self._procs.append(proc)
        self.seconds = seconds

    def wait_ready(self, timeout: float = 60.0) -> None:
        for ready in self._readies:
            if not ready.wait(timeout):
                raise RuntimeError("a load generator process did not connect in time")

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p.pid is not None]

    def run(self) -> LoadResult:
        self._go.set()
        parts = [self._results.get(timeout=self.seconds + 60) for _ in self._procs]
        for proc in self._procs:
            proc.join(timeout=10)
        return merge(parts)

    def close(self) -> None:
        for proc in self._procs:
            if proc.is_alive():
                proc.kill()
        with contextlib.suppress(Exception):
            self._results.close()
