"""`kontingent serve --workers 2`: `/metrics`, answered by either worker, adds up the requests
both workers served, and the folder of metric files is made and emptied by `serve` itself;
the workers log JSON lines (here the access log).

Nothing here needs data: `/healthz` touches no database. Requests go out on fresh connections,
many at once, until each worker's own file shows it served some (polled with a deadline), so
the sum is a sum over two processes and not one process's count.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.servers import start_server

pytestmark = pytest.mark.slow
PORTS = (18500, 18599)  # this family's range; other server tests use other ranges
BATCH = 40
DEADLINE_S = 30.0
HEALTHZ = re.compile(
    r'^kontingent_http_requests_total\{method="GET",route="/healthz",status="200"\} (\S+)$', re.M
)


def healthz_count(text: str) -> float:
    found = HEALTHZ.search(text)
    return 0.0 if found is None else float(found.group(1))


def count_of_each_worker(folder: Path, scratch: Path) -> dict[str, float]:
    """/healthz requests per worker, read from each worker's own file alone."""
    counts = {}
    for path in folder.glob("counter_*.db"):
        alone = scratch / path.stem
        alone.mkdir(exist_ok=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counts[path.stem] = healthz_count(generate_latest(registry).decode())
    return counts


def hit(url: str) -> int:
    with httpx.Client(timeout=5.0) as client:  # a connection of its own: any worker may take it
        return client.get(url, headers={"Connection": "close"}).status_code


def test_metrics_add_up_the_requests_of_both_workers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"left over from an earlier run")
    env = {
        "KONTINGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}",
        "KONTINGENT_SECRET_KEY": "metrics-test-" + "x" * 32,
        "KONTINGENT_METRICS_DIR": str(folder),
        "KONTINGENT_EMBEDDED_RELAY": "false",
        "KONTINGENT_ACCESS_LOG": "true",  # and see the workers log JSON lines
    }
    # /healthz as the readiness URL: this database is empty, nothing else would answer 200.
    server = start_server(
        ["--workers", "2"], env, tmp_path / "serve.log", ports=PORTS, ready_path="/healthz"
    )
    request.addfinalizer(server.stop)
    with server.shown_on_failure():
        assert not (folder / "counter_1.db").exists()  # emptied at start
        sent = sum(count_of_each_worker(folder, tmp_path).values())  # the readiness polls
        deadline = time.monotonic() + DEADLINE_S
        with ThreadPoolExecutor(max_workers=8) as pool:
            while True:
                statuses = list(pool.map(hit, [f"{server.url}/healthz"] * BATCH))
                assert statuses == [200] * BATCH
                sent += BATCH
                each = count_of_each_worker(folder, tmp_path)
                if sum(1 for n in each.values() if n > 0) >= 2:
                    break
                assert time.monotonic() < deadline, f"one worker took every connection: {each}"
        assert sum(each.values()) == sent
        for _ in range(4):  # whichever worker answers, it reports both
            assert healthz_count(httpx.get(f"{server.url}/metrics").text) == sent
        lines = [json.loads(x) for x in server.log_text().splitlines() if x.startswith("{")]
        requests = [x for x in lines if x.get("event") == "request"]
        assert len(requests) >= sent and {x["route"] for x in requests} >= {"/healthz"}
        assert all(x["level"] == "info" and x["timestamp"].endswith("Z") for x in requests)
