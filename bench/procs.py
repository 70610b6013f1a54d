"""Server processes for the benchmark and the CPU they use, read from /proc.

CPU is read per process group (a server and all its worker processes, every PostgreSQL
process, the load generator) as user+system seconds, plus the whole machine's busy time from
/proc/stat, so each phase can say where its two cores went.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may hold spaces: split after the last ')'.
    open_, close = text.index(" ("), text.rindex(")")
    return [text[:open_], text[open_ + 2 : close], *text[close + 2 :].split()]


def _all_pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def descendants(root: int) -> set[int]:
    """`root` and every process below it."""
    parents: dict[int, list[int]] = {}
    for pid in _all_pids():
        st = _stat(pid)
        if st is not None:
            parents.setdefault(int(st[3]), []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


class Postgres:
    """Every PostgreSQL process, read afresh each time: backends come and go during a phase.

    A backend that exits moves its CPU time into the postmaster's `cutime`/`cstime`, so the
    sum of the live processes and those fields only grows.
    """

    def __iter__(self) -> Iterator[int]:
        return iter(
            [pid for pid in _all_pids() if (st := _stat(pid)) is not None and st[1] == "postgres"]
        )


def _children_seconds(pid: int) -> float:
    st = _stat(pid)
    return 0.0 if st is None else (int(st[15]) + int(st[16])) / TICK


def cpu_seconds(pids: Iterable[int]) -> float:
    total = 0.0
    for pid in pids:
        st = _stat(pid)
        if st is not None:
            total += (int(st[13]) + int(st[14])) / TICK
            if st[1] == "postgres" and st[3] == "1":  # the postmaster: add its dead children
                total += _children_seconds(pid)
    return total


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return (total - idle) / TICK, total / TICK


@dataclass
class CpuWindow:
    """CPU use of named process groups over one phase, in cores (seconds per wall second)."""

    groups: Mapping[str, Iterable[int]]
    start: dict[str, float] | None = None
    used: dict[str, float] | None = None

    def __enter__(self) -> CpuWindow:
        self._wall = time.monotonic()
        self._machine = machine_busy_seconds()
        self.start = {name: cpu_seconds(pids) for name, pids in self.groups.items()}
        return self

    def __exit__(self, *_: object) -> None:
        wall = time.monotonic() - self._wall
        assert self.start is not None
        self.used = {
            name: (cpu_seconds(pids) - self.start[name]) / wall
            for name, pids in self.groups.items()
        }
        busy, _ = machine_busy_seconds()
        self.used["machine"] = (busy - self._machine[0]) / wall


class Server:
    """A server started as a subprocess in its own process group, stopped with it."""

    def __init__(
        self, name: str, args: list[str], env: Mapping[str, str], cwd: Path, port: int | None = None
    ) -> None:
        """`port`: the port it will listen on, refused if anything listens there already.
        Granian binds with SO_REUSEPORT, so a server left over from an interrupted run would
        silently share the port and answer part of the requests, with its own settings."""
        if port is not None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                raise RuntimeError(
                    f"port {port} is taken: a server left over from an earlier run? "
                    f"(see `ss -ltnp 'sport = :{port}'`)"
                )
        self.name = name
        self.log = Path(tempfile.mkdtemp(prefix="kontingent-bench-")) / f"{name}.log"
        self._log_file = self.log.open("wb")
        self.proc = subprocess.Popen(
            args,
            env={**os.environ, **env},
            cwd=cwd,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, url: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: see {self.log}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            time.sleep(0.2)  # polling a readiness URL while a server starts
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout}s: see {self.log}")

    def pids(self) -> set[int]:
        return descendants(self.proc.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log_file.close()


def hello_server(port: int) -> Server:
    """The plain Granian hello-world of bench/hello.py with the Granian settings of
    `kontingent serve` (ASGI, 2 workers, backlog 4096), ready to answer."""
    here = Path(__file__).resolve().parent
    granian = str(Path(sys.executable).parent / "granian")
    args = ["--interface", "asgi", "--workers", "2", "--backlog", "4096"]
    hello = Server("hello", [granian, *args, "--port", str(port), "hello:app"], {}, here, port)
    hello.wait_ready(f"http://127.0.0.1:{port}/")
    return hello
