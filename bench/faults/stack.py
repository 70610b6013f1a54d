"""The production-mode deployment one scenario runs against, and the hands that hurt it.

Invariants kept here:
- Every part is a process of its own, as in production: `kontingent serve --workers 2
  --no-relay` (Granian), a separate `kontingent worker` (the outbox relay), the SMS box
  (bench/rush/smsbox.py, from which clients read their PINs) and an SMTP sink
  (bench/faults/mailbox.py), against the suite's own PostgreSQL and Redis (infra.py).
- The service and the relay each lead a process group of their own, so a kill reaches
  exactly the processes meant: one Granian worker, the whole server, or the relay.
- A server started again after a kill gets the same settings and port; the SMTP sink
  comes back on its old port, where the relay keeps looking for it.
- What each receiver counted is kept across its restarts (`mail_arrivals`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from procs import Server, descendants
from rush.stack import Sidecar

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The per-IP limits would refuse a crowd that all comes from 127.0.0.1; the per-phone limits
# stay on (every client has a phone of its own), so the rate limiter's Redis calls still run.
PER_IP_LIMITS = ("PIN_SEND", "PIN_CHECK", "BOOKING", "ELIGIBILITY", "OFFERS", "QUEUE_DRAW")


class Deployment:
    """One scenario's servers; `env` is what `serve` and `worker` are both given."""

    def __init__(self, env: Mapping[str, str], port: int, logs: Path) -> None:
        self.env = dict(env)
        self.port = port
        self.logs = logs
        self.service: Server | None = None
        self.relay: Server | None = None
        self.sms: Sidecar | None = None
        self.smtp: Sidecar | None = None
        self.smtp_port = 0
        self.mail_arrivals: Counter[str] = Counter()
        self._retired: list[Server] = []  # killed servers, whose logs are kept

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def sms_url(self) -> str:
        assert self.sms is not None
        return f"http://127.0.0.1:{self.sms.port}"

    def start(self) -> None:
        self.sms = Sidecar([sys.executable, str(ROOT / "bench/rush/smsbox.py")])
        self.start_smtp()
        self.env["KONTINGENT_SMS_GATEWAY_URL"] = f"{self.sms_url}/sms"
        self.env["KONTINGENT_SMTP_URL"] = f"smtp://127.0.0.1:{self.smtp_port}"
        self.start_relay()
        self.start_service()

    # --- the web service --------------------------------------------------------------------

    def start_service(self) -> None:
        args = ["serve", "--workers", "2", "--port", str(self.port), "--no-relay"]
        self.service = Server(
            "service", [str(BIN / "kontingent"), *args], self.env, ROOT, self.port
        )
        self.service.wait_ready(f"{self.url}/healthz")

    def workers(self) -> list[int]:
        """The Granian worker processes: forks of the main process, which start nothing."""
        assert self.service is not None
        main = self.service.proc.pid
        return sorted(descendants(main) - {main})

    def kill_worker(self) -> int:
        """SIGKILL one web worker; its pid."""
        pid = self.workers()[-1]
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_service(self) -> None:
        assert self.service is not None
        _kill_group(self.service)
        self._retired.append(self.service)

    def service_alive(self) -> bool:
        return self.service is not None and self.service.proc.poll() is None

    # --- the relay ---------------------------------------------------------------------------

    def start_relay(self) -> None:
        self.relay = Server("relay", [str(BIN / "kontingent"), "worker"], self.env, ROOT)

    def kill_relay(self) -> None:
        assert self.relay is not None
        _kill_group(self.relay)
        self._retired.append(self.relay)

    def hold_relay(self, held: bool) -> None:
        """SIGSTOP (or SIGCONT) the relay: messages pile up while it is held."""
        assert self.relay is not None
        os.killpg(self.relay.proc.pid, signal.SIGSTOP if held else signal.SIGCONT)

    def kill_relay_delivering(self, texts: int, timeout_s: float = 10.0) -> bool:
        """Let a held relay go and SIGKILL it once `texts` more SMS reached the box, in the
        middle of delivering what piled up; whether that many came before `timeout_s`."""
        target = self.sms_texts() + texts
        self.hold_relay(False)
        deadline = time.monotonic() + timeout_s
        while self.sms_texts() < target and time.monotonic() < deadline:
            time.sleep(0.002)  # watching the deliveries arrive, bounded by the deadline
        self.kill_relay()
        return time.monotonic() < deadline

    # --- the receivers -----------------------------------------------------------------------

    def start_smtp(self) -> None:
        mailbox = str(ROOT / "bench/faults/mailbox.py")
        self.smtp = Sidecar([sys.executable, mailbox, str(self.smtp_port)])
        self.smtp_port = self.smtp.port

    def stop_smtp(self) -> None:
        if self.smtp is not None:
            with contextlib.suppress(ValueError):
                self.mail_arrivals.update(json.loads(self.smtp.stop() or "{}"))
            self.smtp = None

    def sms_outage(self, failing: bool) -> None:
        body = json.dumps({"failing": failing}).encode()
        url = f"{self.sms_url}/control/outage"
        request = urllib.request.Request(url, body, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            answer.read()

    def sms_texts(self) -> int:
        with urllib.request.urlopen(f"{self.sms_url}/stats", timeout=10) as answer:  # noqa: S310
            return int(json.loads(answer.read())["texts"])

    def sms_arrivals(self) -> Counter[str]:
        with urllib.request.urlopen(f"{self.sms_url}/ids", timeout=30) as answer:  # noqa: S310
            return Counter(json.loads(answer.read()))

    # --- the end -----------------------------------------------------------------------------

    def stop(self) -> tuple[Counter[str], Counter[str]]:
        """Stop everything still running, keep every server's log under `logs`; how often
        each message id reached the SMS box and the SMTP sink. The relay stops first (a
        clean stop records what it delivered), so nothing arrives after the count."""
        for server in (*self._retired, self.service, self.relay):
            if server is not None:
                server.stop()  # a killed one only has its log closed
        sms = self.sms_arrivals()
        self.stop_smtp()
        if self.sms is not None:
            self.sms.stop()
        self.logs.mkdir(parents=True, exist_ok=True)
        for i, server in enumerate([*self._retired, self.service, self.relay]):
            if server is not None and server.log.exists():
                server.log.rename(self.logs / f"{server.name}-{i}.log")
                with contextlib.suppress(OSError):
                    server.log.parent.rmdir()  # procs.Server's folder, now empty
        return sms, self.mail_arrivals

    def relays_killed(self) -> int:
        return sum(1 for server in self._retired if server.name == "relay")

    def service_logs(self) -> list[Path]:
        return sorted(self.logs.glob("service-*.log"))


def _kill_group(server: Server) -> None:
    """SIGKILL a server and everything it started, as a machine that loses it would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.proc.pid, signal.SIGKILL)
    server.proc.wait(timeout=10)
