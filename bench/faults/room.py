"""The waiting room as the suite arms and watches it: through the operator's command line
(`kontingent waiting-room set|status`, as docs/operations.md tells operators to arm it at run
time) and through the API, as a client without an admission.

Invariants kept here:
- Load starts only once every worker guards (`until_guarding`): each process follows the
  room's settings within a second of its next request, so load that started sooner would
  meet some workers guarding and others not, and count that as the fault's doing.
- Each probe uses a phone of its own and a new connection, so it is never rate-limited and
  lands on whichever worker the kernel picks.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from driver import API, Load

BIN = Path(sys.executable).parent
GUARDED = "403 admission_required"
GUARDING_PROBES = 12  # refusals in a row, on new connections spread over the workers
_probes = itertools.count()


def arm(env: dict[str, str], rate: float) -> None:
    """Open the room now at `rate`: guarding verification and booking from this moment."""
    now = datetime.now(UTC).isoformat(timespec="seconds")
    command = [str(BIN / "kontingent"), "waiting-room", "set", "--mode", "scheduled"]
    command += ["--opens-at", now, "--rate", str(rate)]
    subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True)


def in_line(env: dict[str, str]) -> str:
    """How many people wait in the room now, as `kontingent waiting-room status` says."""
    command = [str(BIN / "kontingent"), "waiting-room", "status"]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("waiting "):
            return line.split()[-1]
    return "?"


async def probe(url: str) -> str:
    """A PIN request without an admission: "403 admission_required" while the room guards."""
    body = {"phone": f"+4915299{next(_probes):06d}"}
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        answer = await Load.send_with(session, url, "POST", f"{API}/verifications", body)
    return f"{answer.status or 'no answer'} {answer.code}".strip()


async def until_guarding(url: str, timeout_s: float = 30.0) -> None:
    deadline, refused = time.monotonic() + timeout_s, 0
    while refused < GUARDING_PROBES:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the waiting room did not guard {timeout_s:.0f} s after arming")
        refused = refused + 1 if await probe(url) == GUARDED else 0
        await asyncio.sleep(0.1)  # probing the workers in turn, bounded by the deadline
