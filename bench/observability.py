"""What the request metrics and the access log cost per request, measured in one process.

    .venv/bin/python bench/observability.py [--requests 20000] [--rounds 5]

Drives the real application (`create_app`) in-process through ASGI calls of `GET /healthz`
(no I/O, so the wrapper's share is as large as it can be), in alternating rounds: Litestar
alone, with the metrics wrapper (prometheus_client in multiprocess mode, values in mmap
files, as under `kontingent serve`), and with the wrapper plus the access log rendered as
JSON. Reports the median CPU microseconds per request of each and the differences.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import statistics
import tempfile
import time
from typing import Any


async def drive(app: Any, handler: Any, requests: int) -> float:
    scope_base = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
        "app": app,
        "litestar_app": app,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_: dict[str, Any]) -> None:
        return None

    started = time.process_time()  # CPU time: the machine is shared, wall time drifts
    for _ in range(requests):
        await handler(dict(scope_base, state={}), receive, send)
    return (time.process_time() - started) / requests * 1e6


async def main(requests: int, rounds: int) -> None:
    from kontingent.app import create_app
    from kontingent.config import Settings
    from kontingent.observability.logs import configure_logging, reset_logging
    from kontingent.observability.metrics import measured

    app = create_app(Settings(demo=True, database_url="sqlite+aiosqlite:///:memory:"))
    inner = app.asgi_handler.__wrapped__  # type: ignore[attr-defined]  # Litestar's own
    metrics = app.state.observability.metrics
    variants = {
        "litestar alone": inner,
        "with metrics": measured(inner, metrics),
        "with metrics + access log": measured(inner, metrics, access_log=True),
    }
    configure_logging("json", "info", io.StringIO())
    results: dict[str, list[float]] = {name: [] for name in variants}
    for handler in variants.values():
        await drive(app, handler, requests // 10)  # warm up
    for _ in range(rounds):
        for name, handler in variants.items():
            results[name].append(await drive(app, handler, requests))
    reset_logging()
    base = statistics.median(results["litestar alone"])
    for name, values in results.items():
        median = statistics.median(values)
        print(f"{name:28s} {median:7.1f} µs/request  (+{median - base:5.1f} µs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="kt-bench-metrics-")
    asyncio.run(main(args.requests, args.rounds))
