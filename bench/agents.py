"""Hotline agents in the booking benchmark: their accounts, bearer tokens, and booking
requests mixed among the citizens' (bench/booking.py, phase "mixed bookings").

Agents are added with `kontingent user add` (argon2, as an operator adds them) and log in
once each over HTTP; their requests book prepared persons on the same offers as the web's,
through `POST /api/v1/agent/bookings`, with a mobile caller's number (so every booking still
queues its confirmation SMS, which the run's checks count).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

import msgspec

from dataset import Prepared
from loadgen import post_json

AGENTS = 8
PASSWORD = secrets.token_urlsafe(16)  # of this run's throw-away schema only
AGENT_SHARE = 10  # every 10th booking of the mixed phase is an agent's: 90 % web, 10 % agent


def add_agents(kontingent: Path, env: Mapping[str, str], cwd: Path) -> list[str]:
    """The names of AGENTS new agent accounts, added through the CLI."""
    names = [f"bench.agent{i}" for i in range(AGENTS)]
    for name in names:
        done = subprocess.run(
            [str(kontingent), "user", "add", name, "--role", "agent", "--password-stdin"],
            input=PASSWORD + "\n", text=True, env=dict(env), cwd=cwd, check=False,
            capture_output=True,
        )  # fmt: skip
        if done.returncode != 0:
            raise RuntimeError(f"user add {name} failed: {done.stdout[-500:]}{done.stderr[-1500:]}")
    return names


def log_in(port: int, names: Sequence[str]) -> list[str]:
    """A bearer token per agent (`POST /api/v1/auth/token`: argon2 once, at login)."""
    tokens = []
    for name in names:
        body = json.dumps({"username": name, "password": PASSWORD}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/auth/token", body,
            {"content-type": "application/json"},
        )  # fmt: skip
        # An http:// URL made here, never a file: or other scheme from outside.
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            tokens.append(json.load(answer)["token"])
    return tokens


def agent_request(item: Prepared, token: str, n: int) -> bytes:
    """The prepared person booked by an agent: the caller's number added, no PIN token."""
    body = msgspec.json.decode(item.request_body)
    body["persons"][0]["phone"] = f"+49171{n:07d}"
    headers = {"authorization": f"Bearer {token}"}
    return post_json("/api/v1/agent/bookings", msgspec.json.encode(body), headers)


def web_request(item: Prepared) -> bytes:
    headers = {"authorization": f"Bearer {item.token}"}
    return post_json("/api/v1/bookings", item.request_body, headers)


def mixed_requests(items: Sequence[Prepared], tokens: Sequence[str]) -> list[bytes]:
    """Web bookings with every AGENT_SHARE-th one an agent's, agents taking turns."""
    return [
        agent_request(p, tokens[(i // AGENT_SHARE) % len(tokens)], i)
        if i % AGENT_SHARE == AGENT_SHARE - 1
        else web_request(p)
        for i, p in enumerate(items)
    ]
