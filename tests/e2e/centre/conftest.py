"""A real server for the centre console's browser tests: `kontingent serve --demo` on a fresh
SQLite file, its clock shifted to 09:00 (Berlin) of the next day, so the day's appointments
lie ahead whatever the hour the tests run at, and a known secret key, so a test can sign
the QR code a person brings. Chromium and axe-core: the portal's fixtures."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, time, timedelta

import pytest

from kontingent.clock import BERLIN
from tests.e2e.portal.conftest import Server, _free_port, _wait_ready, axe_source, browser  # noqa: F401 (fixtures)

SECRET = "centre console browser test key, not a secret " * 2


def morning_offset() -> float:
    """Seconds from now to 09:00 tomorrow in Berlin."""
    now = datetime.now(BERLIN)
    nine = datetime.combine(now.date() + timedelta(days=1), time(9, 0), BERLIN)
    return (nine - now).total_seconds()


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("centre-server")
    database = folder / "kontingent.sqlite3"
    port = _free_port()
    env = {
        **os.environ,
        "KONTINGENT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "KONTINGENT_LOG_LEVEL": "warning",
        "KONTINGENT_SECRET_KEY": SECRET,
        "KONTINGENT_CLOCK_OFFSET_S": str(int(morning_offset())),
    }
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kontingent", "serve", "--demo", "--port", str(port)],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, proc, log)
        yield Server(url, database, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
