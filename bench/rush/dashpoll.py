"""An admin's dashboard open during the rush: GET /api/v1/admin/dashboard every few seconds
(`--dashboard-every`, default 2 s), as the page's script polls it, with an admin's token.

The runs of `--modes` ending in `+dash` run it beside the crowd, so the report puts the
crowd's bookings/s with and without an open dashboard side by side.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

BIN = Path(sys.executable).parent


def admin_token(url: str, env: Mapping[str, str]) -> str:
    """A fresh admin account in the run's schema (`kontingent user add`), and its token."""
    name, password = f"bench-admin-{secrets.token_hex(3)}", secrets.token_urlsafe(18)
    subprocess.run(
        [str(BIN / "kontingent"), "user", "add", name, "--role", "admin", "--password-stdin"],
        input=password + "\n", text=True, env={**os.environ, **env}, check=True,
        capture_output=True,
    )  # fmt: skip
    body = json.dumps({"username": name, "password": password}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url + "/api/v1/auth/token", body, headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return str(json.loads(answer.read())["token"])


class DashboardPoller(threading.Thread):
    def __init__(self, url: str, token: str, every_s: float) -> None:
        super().__init__(daemon=True)
        self.url, self.every_s = url + "/api/v1/admin/dashboard", every_s
        self.headers = {"Authorization": f"Bearer {token}"}
        self.stopping = threading.Event()
        self.latencies_ms: list[float] = []
        self.failures = 0

    def run(self) -> None:
        while not self.stopping.is_set():
            started = time.perf_counter()
            try:
                request = urllib.request.Request(self.url, headers=self.headers)  # noqa: S310
                with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                    answer.read()
                self.latencies_ms.append((time.perf_counter() - started) * 1000)
            except OSError:
                self.failures += 1
            self.stopping.wait(max(0.0, self.every_s - (time.perf_counter() - started)))

    def stop(self) -> dict[str, float]:
        self.stopping.set()
        self.join(timeout=60)
        got = sorted(self.latencies_ms)
        p99 = got[min(len(got) - 1, int(len(got) * 0.99))] if got else 0.0
        return {
            "polls": len(got),
            "failed": self.failures,
            "median_ms": statistics.median(got) if got else 0.0,
            "p99_ms": p99,
        }
