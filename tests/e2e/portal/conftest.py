"""A real server (`kontingent serve --demo` on a fresh SQLite file) and Debian's Chromium,
driven by Playwright, for the portal's browser tests.

`make test` installs Chromium and axe-core (`make browser`); without them these tests fail with
that advice rather than skip, so a missing browser is never mistaken for a pass. Screenshots
go to docs/screenshots/portal/, where people look at them (a current set is committed).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[3]
SCREENSHOTS = ROOT / "docs" / "screenshots" / "portal"
AXE = ROOT / ".venv" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
FIRST_PORT = 18500
READY_TIMEOUT_S = 180.0  # migrating and seeding the demo takes 70 s on a busy 2-core host


@dataclass(frozen=True, slots=True)
class Server:
    url: str
    database: Path
    log: Path


def _free_port() -> int:
    # A random start: several people's test runs share this machine, and two runs that both
    # found the same port free would otherwise talk to one server (the other's bind fails).
    first = FIRST_PORT + random.randrange(0, 20000, 10)
    for port in range(first, first + 200):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port from {FIRST_PORT} upward")


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    """Poll the readiness URL until the server answers (seeding the demo takes a while)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/v1/centres", timeout=2).status_code == 200:
                if proc.poll() is None:  # ours answered, not another run's on the same port
                    return
                raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}")
        except httpx.TransportError:
            pass
        time.sleep(0.2)  # polling a readiness URL, not waiting for an effect
    raise RuntimeError(
        f"the server was not ready in {READY_TIMEOUT_S}s:\n{log.read_text()[-3000:]}"
    )


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("portal-server")
    database = folder / "kontingent.sqlite3"
    port = _free_port()
    env = {
        **os.environ,
        "KONTINGENT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "KONTINGENT_LOG_LEVEL": "warning",
    }
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kontingent", "serve", "--demo", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
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


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Chromium is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, server: Server) -> Iterator[Page]:
    context = browser.new_context(
        base_url=server.url, viewport={"width": 1000, "height": 900}, locale="de-DE"
    )
    context.set_default_timeout(15_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


@pytest.fixture(scope="package", autouse=True)
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="package")
def axe_source() -> str:
    """axe-core's script (npm, installed by `make browser`), injected into pages to check them."""
    path = Path(os.environ.get("KONTINGENT_AXE_JS", AXE))
    if not path.is_file():
        pytest.fail(f"axe-core is missing at {path}: run `make browser` (npm install axe-core@4)")
    return path.read_text(encoding="utf-8")
