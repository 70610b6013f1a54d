"""`kontingent serve --workers 2` survives a worker killed with SIGKILL: Granian spawns a new
one in its place, the other worker answers meanwhile, and the metrics keep what the dead
worker had counted.

Nothing here needs data: `/healthz` touches no database. Every request goes out on a fresh
connection, so either worker may take it; the replacement's own metric file shows that it
serves too. Waits are polls of the server's log, `/proc` and the metric files, each with a
deadline.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_metrics_workers import count_of_each_worker, healthz_count, hit
from tests.servers import Server, start_server

pytestmark = pytest.mark.slow
PORTS = (19100, 19199)  # this family's range; other server tests use other ranges
DEADLINE_S = 40.0
SPAWNED = re.compile(r"Spawning worker-(\d+) with PID: (\d+)")


def workers(server: Server) -> dict[int, int]:
    """Worker number -> PID of its newest process, as Granian logged them."""
    return {int(n): int(pid) for n, pid in SPAWNED.findall(server.log_text())}


def started(server: Server) -> int:
    return server.log_text().count("Started worker-")


def alive(pid: int) -> bool:
    """Whether `pid` is a process that has not been reaped (a zombie still counts)."""
    return Path(f"/proc/{pid}").exists()


def poll(condition: Callable[[], bool], what: str, each: Callable[[], None] = lambda: None) -> None:
    """Call `each` until `condition` holds; fail after DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        each()


def test_faults_1_a_killed_worker_is_replaced_and_the_server_keeps_answering(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """One worker's death (kill -9) no longer shuts the whole server down."""
    folder = tmp_path / "metrics"
    env = {
        "KONTINGENT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'k.sqlite3'}",
        "KONTINGENT_SECRET_KEY": "respawn-test-" + "x" * 32,
        "KONTINGENT_METRICS_DIR": str(folder),
        "KONTINGENT_EMBEDDED_RELAY": "false",
    }
    server = start_server(
        ["--workers", "2"], env, tmp_path / "serve.log", ports=PORTS, ready_path="/healthz"
    )
    request.addfinalizer(server.stop)
    url = f"{server.url}/healthz"
    answered = sum(count_of_each_worker(folder, tmp_path).values())  # the readiness polls

    def answer() -> None:
        nonlocal answered
        assert hit(url) == 200
        answered += 1

    with server.shown_on_failure():
        poll(lambda: started(server) == 2, "both workers started", answer)
        old = workers(server)
        os.kill(old[1], signal.SIGKILL)
        # Requests the dying worker had taken may be lost; once it is gone, none may be.
        poll(lambda: not alive(old[1]), "the killed worker reaped")
        poll(lambda: started(server) == 3, "a new worker-1 started", answer)
        new = workers(server)[1]
        assert new != old[1] and alive(new) and alive(old[2])
        replacement = f"counter_{new}"
        poll(
            lambda: count_of_each_worker(folder, tmp_path).get(replacement, 0) > 0,
            "the new worker-1 answered a request",
            answer,
        )
        assert server.process.poll() is None, "the server shut itself down"
        # The dead worker's counts stay in the sum: every answered request is counted once.
        # A worker counts a request just after answering it, so the first and the last
        # request may be read on either side of its count: one either way is no loss.
        total = healthz_count(httpx.get(f"{server.url}/metrics").text)
        assert abs(total - answered) <= 1, (total, answered)
        assert "Respawning worker-1" in server.log_text()
