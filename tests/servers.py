"""Real `kontingent serve` processes for tests that need them.

Invariants kept here:
- A server listens on 127.0.0.1 only, on a port that was free when chosen from the range its
  caller names (each test family has its own range, so parallel helpers do not collide).
- `start_server` returns only once a readiness URL answers 200; if the process dies or the
  deadline passes first, it stops the process and raises with the tail of the log.
- Everything the server prints goes to a log file; `Server.shown_on_failure()` adds that log
  to any error raised inside it, so a failing test shows what the server said.
- A server started with `serve(request, ...)` is always stopped by a fixture finaliser: TERM to
  the server, then KILL to its whole process group (the Granian workers) if anything is left.
- The server inherits no KONTINGENT_* variable from the test run: it gets exactly `env`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

READY_PATH = "/api/v1/vaccines"
LOG_TAIL_LINES = 80
PORT_ATTEMPTS = 3
PORT_TAKEN = "Address already in use"  # what Granian says when it cannot bind


def free_port(first: int, last: int) -> int:
    """The first port in [first, last] that nothing listens on or holds right now."""
    for port in range(first, last + 1):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between {first} and {last}")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log written)"

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def describe(self) -> str:
        state = "running" if self.process.poll() is None else f"exited {self.process.returncode}"
        return f"server {self.url} ({state}), log {self.log_path}:\n{self.log_tail()}"

    @contextlib.contextmanager
    def shown_on_failure(self) -> Iterator[None]:
        """Attach the server's log to any error raised inside the block."""
        try:
            yield
        except BaseException as exc:
            exc.add_note(self.describe())
            raise

    def stop(self, timeout_s: float = 15.0) -> None:
        """TERM the server and wait; KILL its process group if it or a worker lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout_s)
        # start_new_session made the server the leader of a group of its own: this id is ours.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout_s)


def server_env(env: Mapping[str, str]) -> dict[str, str]:
    """The test run's environment without its KONTINGENT_* variables, plus `env`."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("KONTINGENT_")}
    return {**inherited, "PYTHONUNBUFFERED": "1", **env}


def start_server(
    args: Sequence[str],
    env: Mapping[str, str],
    log_path: Path,
    *,
    ports: tuple[int, int],
    ready_path: str = READY_PATH,
    timeout_s: float = 60.0,
) -> Server:
    """Start `kontingent serve ARGS --port P` and wait until `ready_path` answers 200.

    A port taken by someone else between choosing and binding it is skipped: up to
    PORT_ATTEMPTS ports are tried, each higher than the last.
    """
    first, last = ports
    for _ in range(PORT_ATTEMPTS):
        server = _launch(args, env, log_path, free_port(first, last))
        try:
            _wait_ready(server, ready_path, timeout_s)
        except BaseException:
            server.stop()
            if PORT_TAKEN not in server.log_text():
                raise
            first = server.port + 1
            continue
        return server
    raise RuntimeError(f"{PORT_ATTEMPTS} ports in {ports} were taken while starting a server")


def _launch(args: Sequence[str], env: Mapping[str, str], log_path: Path, port: int) -> Server:
    command = [sys.executable, "-m", "kontingent", "serve", *args, "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            env=server_env(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Server(process, port, log_path)


def _wait_ready(server: Server, path: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=server.url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                raise RuntimeError(f"the server exited before it was ready\n{server.describe()}")
            try:
                if client.get(path).status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)  # polling a readiness URL: the one wait the style allows
    raise RuntimeError(f"the server was not ready within {timeout_s:.0f} s\n{server.describe()}")


def serve(
    request: pytest.FixtureRequest,
    args: Sequence[str],
    env: Mapping[str, str],
    *,
    ports: tuple[int, int],
    name: str = "server",
) -> Server:
    """Start a server for the requesting fixture; its finaliser always stops it.

    The log goes to the test's temporary folder as `<name>.log`.
    """
    log_path = request.getfixturevalue("tmp_path") / f"{name}.log"
    server = start_server(args, env, log_path, ports=ports)
    request.addfinalizer(server.stop)
    return server
