"""The fault suite's own PostgreSQL cluster and Redis server, on free loopback ports, so that
restarting, killing or freezing them disturbs nobody else on the machine.

Invariants kept here:
- Both live in one temporary folder, removed by `close()`; nothing listens beyond 127.0.0.1.
- PostgreSQL runs as the `postgres` user (or `nobody`) when this runs as root, because initdb
  refuses root; that user owns the folder. Killing it kills the postmaster and every backend
  at once (`kill -9`, as the out-of-memory killer or a crash would), so the next start does
  crash recovery, as in production.
- Redis keeps nothing on disk unless asked (`aof=True`): a restart comes back empty, which is
  what a restart without persistence (or a failover to an empty replica) does.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from procs import descendants

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "kontingent"


def missing() -> list[str]:
    """What this machine lacks to run the suite, as the Debian packages that bring it."""
    needs = {
        "postgresql-15 (its server binaries in /usr/lib/postgresql/15/bin)": (PG_BIN / "initdb"),
        "redis-server": shutil.which("redis-server"),
        "redis-tools (redis-cli)": shutil.which("redis-cli"),
    }
    if os.geteuid() == 0:
        needs["util-linux (runuser: initdb refuses root)"] = shutil.which("runuser")
    return [name for name, found in needs.items() if not found or not Path(found).exists()]


def free_port() -> int:
    """A port nothing listens on now (the kernel's choice for an ephemeral bind)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0) -> None:
    """Return once something accepts connections on `port`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)  # polling a server that is starting, bounded by the deadline
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


def _owner() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) to run PostgreSQL as a user initdb accepts."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            user = pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"], user.pw_uid, user.pw_gid
    raise RuntimeError("running as root and found neither a postgres nor a nobody user")


class PostgresCluster:
    """A throwaway PostgreSQL 15 cluster: initdb, start, stop, kill, start again."""

    def __init__(self, root: Path) -> None:
        self.root = root / "pg"
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = free_port()
        self._as, uid, gid = _owner()
        self.root.mkdir(parents=True)
        if uid is not None:
            os.chown(root, uid, gid or -1)
            os.chown(self.root, uid, gid or -1)
        self.dsn = f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, cwd=self.root)

    def init(self) -> None:
        self._run(
            str(PG_BIN / "initdb"),
            *("-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"),
            *("--locale=C.UTF-8", "--no-sync"),
        )
        # Only process crashes are simulated here, never the machine's: the kernel keeps every
        # write, so fsync would only slow the shared disk down. Logging every statement that
        # waited for a lock shows the slots-lock scenario in the server log.
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.root}'",
            "fsync": "off",
            "max_connections": "200",
            "shared_buffers": "128MB",
            "log_lock_waits": "on",
        }
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.writelines(f"{k} = {v}\n" for k, v in settings.items())
        self.start()
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), DATABASE)

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def postmaster(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int((self.data / "postmaster.pid").read_text().split()[0])
        return None

    def kill(self) -> None:
        """SIGKILL the postmaster and every backend at the same instant."""
        pid = self.postmaster()
        if pid is None:
            return
        for each in descendants(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGKILL)
        _wait_gone(pid)

    def close(self) -> None:
        if self.postmaster() is not None:
            with contextlib.suppress(subprocess.CalledProcessError):
                self.stop("immediate")


class RedisServer:
    """A redis-server of our own; `aof=True` keeps an append-only file across restarts."""

    def __init__(self, root: Path, aof: bool = False) -> None:
        self.root = root / "redis"
        self.root.mkdir()
        self.port = free_port()
        self.aof = aof
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            shutil.which("redis-server") or "redis-server",
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.root)),
            *("--save", "", "--appendonly", "yes" if self.aof else "no"),
            *("--protected-mode", "no", "--logfile", str(self.root / "redis.log")),
        ]
        self.proc = subprocess.Popen(args, start_new_session=True)
        wait_port(self.port)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM): with `aof`, the file holds everything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
            self.proc.terminate()
            self.proc.wait(timeout=30)

    def freeze(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)

    def flush(self) -> None:
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "FLUSHALL"], check=True, capture_output=True
        )

    def close(self) -> None:
        self.stop()


def _alive(pid: int | None) -> bool:
    """A zombie counts as dead: on this machine PID 1 does not reap orphans, so a killed
    postmaster may stay one."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_gone(pid: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)  # a killed process takes a moment to leave


class Infrastructure:
    """The cluster and Redis in one temporary folder."""

    def __init__(self, aof: bool = False) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="kontingent-faults-"))
        self.pg = PostgresCluster(self.folder)
        self.redis = RedisServer(self.folder, aof=aof)

    def start(self) -> None:
        self.pg.init()
        self.redis.start()

    def heal(self) -> None:
        """Both running again after a scenario that failed half-way through its fault."""
        if self.pg.postmaster() is None or not _alive(self.pg.postmaster()):
            self.pg.start()
        if self.redis.proc is None or self.redis.proc.poll() is not None:
            self.redis.start()
        else:
            self.redis.thaw()

    def close(self) -> None:
        try:
            self.redis.close()
        finally:
            self.pg.close()
            shutil.rmtree(self.folder, ignore_errors=True)
