"""Where a server's CPU goes during one phase: py-spy samples of its workers, by part.

    .venv/bin/python bench/booking.py --profile /tmp/prof    # the bookings phase, sampled
    .venv/bin/python bench/spy.py /tmp/prof/*.txt             # the breakdown again

`Sampler` runs `py-spy record --nonblocking --gil` on every process of the server for the
phase: the workers are never paused (their rates stay what they are without it), and only
samples holding the GIL count. That is wall time, not CPU: a worker the kernel has set aside
while it holds the GIL (every core busy) is still sampled, so the samples overstate CPU by as
much as the machine is contended (1.05 ms of samples per booking against 0.60 ms of CPU read
from /proc in one busy run). `report` therefore gives each part's share of the samples, and
spreads the CPU measured from /proc over the parts by those shares. What no sample sees at
all (Granian's Rust threads, the kernel's network work) is inside that CPU, spread alike.

`breakdown` files every sample under the part of its innermost frame that belongs to one
(`PARTS`): a Redis call made by the rate limiter counts for the rate limiter, Litestar's own
frames for Litestar only when none of our code runs inside them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

RATE_HZ = 250

# (part, substrings of a frame "function (file:line)"); the innermost frame with a match decides.
PARTS: list[tuple[str, tuple[str, ...]]] = [
    ("idempotency lookup", ("kontingent/booking/idempotency",)),
    ("rate limits", ("kontingent/ratelimit/",)),
    ("waiting room", ("kontingent/waiting_room/",)),
    ("token check", ("read_token (kontingent/verification", "kontingent/verification/model")),
    ("fresh offers for a loser", ("attach_fresh_offers",)),
    ("plan: slots, catalogue", ("slot_infos", "catalogue (kontingent/inventory")),
    ("plan: persons, eligibility", ("_people (kontingent/booking", "check_", "booking/people")),
    ("booking statement (asyncpg)", ("book_seats_pg", "run_driver", "booking/pg_statement")),
    (
        "confirmations (outbox rows)",
        ("confirmations (kontingent/booking", "kontingent/notifications/"),
    ),
    ("cache updates", ("seats_taken", "slots_changed", "kontingent/inventory/")),
    ("answer body", ("BookingOut", "encode_json", "Response.render", "to_asgi_response")),
    ("request body decoding", ("decode_json", "get_data", "parse_values_from_connection")),
    ("booking service, other", ("kontingent/booking/",)),
    # Granian's receive and send are Rust: a sample there names the Python frame awaiting them.
    ("Granian receive and send", ("send_noting_status", "Request.stream", "ASGIResponse.send")),
    ("metrics", ("_record (kontingent/observability", "Metrics.", "prometheus_client")),
    ("logging", ("structlog", "kontingent/observability/")),
    ("our middleware (edge/, app.py)", ("kontingent/edge/", "kontingent/app.py")),
    ("Litestar routing and handling", ("litestar/",)),
    ("event loop and Granian glue", ("granian", "asyncio", "uvloop")),
]


def py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(found).exists():
        raise SystemExit("py-spy is missing: .venv/bin/pip install py-spy")
    return found


class Sampler:
    """py-spy on each of `pids` for `seconds`, collapsed stacks into `out`/<name>-<pid>.txt."""

    def __init__(self, out: Path, name: str, pids: Iterable[int], seconds: float) -> None:
        out.mkdir(parents=True, exist_ok=True)
        ordered = sorted(pids)
        self.files = [out / f"{name}-{pid}.txt" for pid in ordered]
        command = [py_spy(), "record", "--nonblocking", "--gil", "--format", "raw", "--rate"]
        self._procs = [
            subprocess.Popen(
                [
                    *command,
                    str(RATE_HZ),
                    "--duration",
                    str(max(1, round(seconds))),
                    "--pid",
                    str(pid),
                    "--output",
                    str(f),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid, f in zip(ordered, self.files, strict=True)
        ]

    def wait(self) -> list[Path]:
        for proc in self._procs:
            proc.wait(timeout=60)
        return [f for f in self.files if f.exists()]


def breakdown(files: Sequence[Path]) -> Counter[str]:
    """Samples per part over all `files` (collapsed stacks: 'frame;frame;... count')."""
    parts: Counter[str] = Counter()
    for f in files:
        for line in f.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            parts[_part(stack)] += int(count)
    return parts


def _part(stack: str) -> str:
    for frame in reversed(stack.split(";")):
        for name, marks in PARTS:
            if any(m in frame for m in marks):
                return name
    return "other"


def report(parts: Counter[str], requests: int = 0, measured_ms: float = 0.0) -> str:
    """One line per part: its share of the samples and, given the CPU milliseconds per
    request measured meanwhile, that share of them."""
    total = sum(parts.values()) or 1

    def line(name: str, n: float) -> str:
        per = f"  {measured_ms * n / total:6.3f} ms/req" if measured_ms else ""
        return f"{name:34} {100 * n / total:5.1f} %{per}"

    lines = [line(name, n) for name, n in parts.most_common()]
    lines.append(line(f"all ({total} samples, {requests} requests)", total))
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(breakdown([Path(a) for a in sys.argv[1:]])))
