"""`kontingent serve --demo` for the browser tests, each server on a copy of one demo database
seeded once per test run.

Invariants kept here:
- The demo is seeded once per run, by `kontingent seed --demo` in a process of its own (the
  command's own migrations and seed, at the system clock's time, as `serve --demo` seeds);
  every server then starts `serve --demo` on a copy of that file, whose migrations and seed
  find nothing to do. Servers never share a database; seeding the eight weeks took most of a
  server's start (figures in the commit that made this).
- A server is stopped by its fixture's finaliser (tests/servers.py: TERM, then KILL to its
  process group); its log, with the demo's staff passwords, stays in its folder.
- A server listens on a port from a range that starts at a random point, so that test runs
  of several people on one machine rarely try the same port; one taken anyway is skipped
  (tests/servers.py).
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.servers import server_env, start_server

FIRST_PORT, LAST_PORT = 21000, 29999  # this family's range; other server tests use others
READY_TIMEOUT_S = 300.0  # a busy shared machine has taken minutes to start a demo
SEED_TIMEOUT_S = 600.0


@dataclass(frozen=True, slots=True)
class DemoServer:
    url: str
    database: Path
    log: Path


def seed_template(folder: Path) -> Path:
    """A demo database seeded by `kontingent seed --demo`, closed (no write-ahead log left)."""
    database = folder / "kontingent.sqlite3"
    log = folder / "seed.log"
    env = server_env({"KONTINGENT_DATABASE_URL": f"sqlite+aiosqlite:///{database}"})
    with log.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "kontingent", "seed", "--demo"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=SEED_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        pytest.fail(f"seeding the demo failed ({done.returncode}):\n{log.read_text()[-3000:]}")
    for leftover in ("-wal", "-shm"):
        assert not Path(f"{database}{leftover}").exists(), f"{database}{leftover} was left open"
    return database


def serve_demo(
    request: pytest.FixtureRequest,
    template: Path,
    folder: Path,
    env: dict[str, str] | None = None,
) -> DemoServer:
    """`kontingent serve --demo` on a copy of `template` in `folder`, until the requesting
    fixture ends."""
    database = folder / "kontingent.sqlite3"
    shutil.copy(template, database)
    first = random.randrange(FIRST_PORT, LAST_PORT - 100, 10)
    server = start_server(
        ["--demo"],
        {
            "KONTINGENT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "KONTINGENT_LOG_LEVEL": "warning",
            "KONTINGENT_METRICS_DIR": str(folder / "metrics"),  # none of another run's
            **(env or {}),
        },
        folder / "server.log",
        ports=(first, first + 100),
        ready_path="/api/v1/centres",
        timeout_s=READY_TIMEOUT_S,
    )
    request.addfinalizer(server.stop)
    return DemoServer(server.url, database, server.log_path)
