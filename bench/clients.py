"""Client CPU per call, side by side in one run, for three choices made on 2026-11-29:

- `redis`: a Lua script call straight through redis-py against the same call through
  `redis_pool.ScriptBatcher` (calls in flight together share one pipeline), local Redis;
- `sms`: posting an SMS to the local gateway (tests/integration/notifications/servers.py, in a
  process of its own) with httpx, set up as the relay had it (clients of 4 connections), and
  with aiohttp, as `HttpSmsGateway` does now (one session);
- `mime`: building and flattening a confirmation e-mail with its calendar, with the default
  policy's `EmailMessage` (as `transports.mime` did) and with `transports.mime` (compat32).

Each figure is the CPU time of this process divided by the calls made; the ratio between
the two rows of a pair is what to read, because absolute times drift on a shared machine.

    .venv/bin/python bench/clients.py              # all three
    .venv/bin/python bench/clients.py sms --calls 20000
"""

from __future__ import annotations

import argparse
import asyncio
import email.message
import email.policy
import email.utils
import secrets
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from pathlib import Path

import aiohttp
import httpx
import uvloop
from aiosmtplib.email import flatten_message

from kontingent.notifications.model import Message
from kontingent.notifications.transports import message_id_header, mime
from kontingent.ratelimit.stores import GCRA_LUA
from kontingent.redis_pool import ScriptBatcher, close_client, request_path_client

ROOT = Path(__file__).resolve().parents[1]
REDIS_URL = "redis://127.0.0.1:6379/0"
CONCURRENCY = 32


async def cpu_per_call(name: str, calls: int, work: Callable[[], Awaitable[None]]) -> float:
    started = time.process_time()
    await work()
    ms = (time.process_time() - started) / calls * 1000
    print(f"  {name:<44} {ms:.3f} ms of CPU per call", flush=True)
    return ms


async def redis_calls(calls: int) -> None:
    print(f"redis: {calls} rate-limit scripts, {CONCURRENCY} in flight", flush=True)
    client = request_path_client(REDIS_URL, connections=64)
    script = client.register_script(GCRA_LUA)
    batcher = ScriptBatcher(client)
    prefix = f"kt_bench_clients_{secrets.token_hex(4)}:"
    await client.script_load(GCRA_LUA)

    def run(
        call: Callable[[list[str], list[float]], Awaitable[object]],
    ) -> Callable[[], Awaitable[None]]:
        async def worker(k: int) -> None:
            for i in range(calls // CONCURRENCY):
                await call([f"{prefix}{k}:{i}"], [time.time(), 0.001, 10.0])

        async def work() -> None:
            await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))

        return work

    try:
        for _ in range(2):  # twice, alternating: the drift shows
            await cpu_per_call("one call, one round trip", calls, run(lambda k, a: script(k, a)))
            await cpu_per_call(
                "ScriptBatcher (one pipeline per loop turn)",
                calls,
                run(lambda k, a: batcher.run(script, k, a)),
            )
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        for i in range(0, len(keys), 1000):
            await client.delete(*keys[i : i + 1000])
        await batcher.aclose()
        await close_client(client)


async def sms_posts(calls: int, url: str) -> None:
    print(f"sms: {calls} posts to the local gateway, 16 connections", flush=True)
    body = b'{"to": "+491701234567", "text": "Ihre PIN: 123456"}'
    headers = {"Content-Type": "application/json", "Idempotency-Key": "m", "X-Message-Id": "m"}

    async def with_httpx() -> None:
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        clients = [httpx.AsyncClient(limits=limits, timeout=15) for _ in range(4)]

        async def worker(client: httpx.AsyncClient) -> None:
            for _ in range(calls // 16):
                response = await client.post(url, content=body, headers=headers)
                assert response.status_code == 200

        await asyncio.gather(*(worker(clients[k % 4]) for k in range(16)))
        for client in clients:
            await client.aclose()

    async def with_aiohttp() -> None:
        connector = aiohttp.TCPConnector(limit=16)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker() -> None:
                for _ in range(calls // 16):
                    async with session.post(url, data=body, headers=headers) as response:
                        await response.read()
                        assert response.status == 200

            await asyncio.gather(*(worker() for _ in range(16)))

    for _ in range(2):
        await cpu_per_call("httpx, 4 clients of 4 connections", calls, with_httpx)
        await cpu_per_call("aiohttp, one session of 16 connections", calls, with_aiohttp)


def with_gateway(calls: int) -> None:
    """The SMS measurement with the local gateway in a process of its own."""
    gateway = subprocess.Popen(
        [sys.executable, "-m", "tests.integration.notifications.servers", "sms"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert gateway.stdout is not None
        port = gateway.stdout.readline().split()[1]  # it prints `ready PORT`
        uvloop.run(sms_posts(calls, f"http://127.0.0.1:{port}/sms"))
    finally:
        gateway.terminate()
        gateway.communicate(timeout=30)


def _confirmation() -> Message:
    calendar = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Kontingent//DE\r\nMETHOD:REQUEST\r\n"
        "BEGIN:VEVENT\r\nUID:bench@kontingent\r\nDTSTART:20261210T102000Z\r\n"
        "SUMMARY:Impfung\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    text = "Guten Tag,\n\nIhre Termine: 10.12. 11:20 und 31.12. 11:20, Impfzentrum Münster.\n"
    return Message(
        "email",
        "erika@example.org",
        text * 3,
        subject="Ihre Impftermine – Code X",
        calendar=calendar,
    )


def _with_email_message(message: Message, sender: str) -> EmailMessage:
    """The way `transports.mime` built mail before 2026-11-29 (the default policy parses
    every header it is set), as the reference to compare with."""
    mail = EmailMessage(policy=email.policy.SMTP)
    mail["From"] = sender
    mail["To"] = message.recipient
    mail["Subject"] = message.subject
    mail["Date"] = email.utils.formatdate(localtime=False)
    mail["Message-ID"] = message_id_header(message.message_id, email.utils.parseaddr(sender)[1])
    mail["Auto-Submitted"] = "auto-generated"
    mail["Content-Language"] = "de"
    mail.set_content(message.body)
    assert message.calendar is not None
    mail.add_attachment(
        message.calendar.encode(),
        maintype="text",
        subtype="calendar",
        filename="impftermine.ics",
        params={"method": "REQUEST"},
    )
    return mail


async def mime_builds(calls: int) -> None:
    print(f"mime: {calls} confirmations with a calendar, built and flattened", flush=True)
    message, sender = _confirmation(), "Impfzentren Münster <termine@example.org>"

    def build(
        make: Callable[[Message, str], email.message.Message],
    ) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            for _ in range(calls):
                flatten_message(make(message, sender))

        return work

    for _ in range(2):
        await cpu_per_call(
            "EmailMessage, default policy (before)", calls, build(_with_email_message)
        )
        await cpu_per_call("transports.mime, compat32 classes (now)", calls, build(mime))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("which", nargs="*", default=["redis", "sms", "mime"])
    parser.add_argument("--calls", type=int, default=0, help="per measurement (default: each own)")
    args = parser.parse_args()
    runs: dict[str, tuple[Callable[[int], None], int]] = {
        "redis": (lambda calls: uvloop.run(redis_calls(calls)), 40_000),
        "sms": (with_gateway, 20_000),
        "mime": (lambda calls: uvloop.run(mime_builds(calls)), 2_000),
    }
    for name in args.which:
        if name not in runs:
            parser.error(f"unknown measurement {name!r}: choose from {', '.join(runs)}")
        measure, default = runs[name]
        measure(args.calls or default)


if __name__ == "__main__":
    main()
