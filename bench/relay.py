"""Outbox relay throughput: messages per second from ONE relay process to a local SMS gateway
and a local SMTP server, on PostgreSQL.

The 2021 failure this answers: PIN and confirmation SMS arrived hours late or never. Aim: at
least 1,000 SMS/s and 300 e-mails/s from one relay process.

What runs where: PostgreSQL (127.0.0.1:5432, database `test`, a fresh schema per run, dropped
afterwards); the SMS gateway and the SMTP server (aiosmtpd) each in a process of their own
(tests/integration/notifications/servers.py); the relay is this process, built exactly as
`kontingent worker` builds it (`relay_for` from settings with both URLs; uvloop). Each phase
queues its messages first, then times the relay from first claim until the outbox is empty,
so the figure includes claiming, delivery and recording every outcome. E-mail goes to
`--domains` recipient domains under the default per-domain budget (50/s each), as in
production. Every run is bounded: it stops after `--timeout` seconds per phase.

    .venv/bin/python bench/relay.py                  # 20,000 SMS, 6,000 e-mails, then mixed
    .venv/bin/python bench/relay.py --sms 5000 --emails 2000
    .venv/bin/python bench/relay.py --sms 0 --emails 2000 --qr   # confirmations' QR code drawn
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test servers live in tests/

from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncConnection  # noqa: E402

from kontingent.booking.model import new_code  # noqa: E402
from kontingent.checkin.model import sign_ticket  # noqa: E402
from kontingent.clock import SystemClock  # noqa: E402
from kontingent.config import Settings  # noqa: E402
from kontingent.db import Database, make_engine  # noqa: E402
from kontingent.migrations import upgrade  # noqa: E402
from kontingent.notifications import repository as repo  # noqa: E402
from kontingent.notifications.model import DEFAULT_CAP, Message  # noqa: E402
from kontingent.notifications.service import Relay  # noqa: E402
from kontingent.notifications.transports import relay_for  # noqa: E402
from kontingent.schema import outbox  # noqa: E402

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True, slots=True)
class Result:
    phase: str
    messages: int
    seconds: float
    cpu_seconds: float  # of this (the relay) process alone

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        """Messages per second of relay CPU: the rate one otherwise idle core would give."""
        return self.messages / self.cpu_seconds if self.cpu_seconds else 0.0


class Receiver:
    """A server process from tests/integration/notifications/servers.py."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.proc: asyncio.subprocess.Process | None = None
        self.port = 0

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.notifications.servers",
            self.kind,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout=30)
        self.port = int(line.split()[1])

    async def stop(self) -> int:
        """Stop it; how many messages it accepted in all."""
        assert self.proc is not None and self.proc.stdout is not None
        self.proc.terminate()
        out = await asyncio.wait_for(self.proc.stdout.read(), timeout=30)
        await self.proc.wait()
        return int(out.split()[-1]) if out.strip() else -1


def sms(n: int) -> list[Message]:
    return [
        Message("sms", f"+49170{i:07d}", f"Impftermin gebucht. Code BENCH{i:08d}. Mo 12.01.2026")
        for i in range(n)
    ]


def emails(n: int, domains: int, qr: bool = False) -> list[Message]:
    """`qr`: each carries a door ticket, drawn into the mail as a PNG, as confirmations do."""
    body = "Guten Tag,\n\nIhre Impftermine sind verbindlich gebucht.\n" * 8
    return [
        Message(
            "email",
            f"p{i}@d{i % domains}.test",
            body,
            subject=f"Ihre Impftermine {i}",
            qr=sign_ticket("bench-secret", new_code()) if qr else None,
        )
        for i in range(n)
    ]


async def enqueue(db: Database, messages: Sequence[Message]) -> None:
    now = SystemClock().now()
    for start in range(0, len(messages), 5000):
        chunk = messages[start : start + 5000]

        async def work(conn: AsyncConnection, chunk: Sequence[Message] = chunk) -> None:
            await repo.enqueue(conn, chunk, now, DEFAULT_CAP)  # one message per recipient

        await db.run_write(work)


async def pending(db: Database) -> int:
    async with db.read() as conn:
        query = select(func.count()).where(outbox.c.sent_at.is_(None), outbox.c.parked_at.is_(None))
        return int((await conn.execute(query)).scalar_one())


async def drain(relay: Relay, channel: str, deadline: float) -> None:
    """Rounds of one channel until nothing is left for it (deferred mail is waited for)."""
    while time.perf_counter() < deadline:
        done = await relay.run_channel(channel)
        if done.claimed == 0:
            async with relay.db.read() as conn:
                left = (
                    await conn.execute(
                        select(func.count()).where(
                            outbox.c.channel == channel,
                            outbox.c.sent_at.is_(None),
                            outbox.c.parked_at.is_(None),
                        )
                    )
                ).scalar_one()
            if not left:
                return
            await asyncio.sleep(0.01)  # deferred by the per-domain budget: due shortly
    raise TimeoutError(f"{channel}: the outbox was not empty before the deadline")


async def phase(
    name: str, relay: Relay, messages: list[Message], channels: Sequence[str], limit_s: float
) -> Result:
    await enqueue(relay.db, messages)
    started, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(drain(relay, c, started + limit_s) for c in channels))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert await pending(relay.db) == 0
    return Result(name, len(messages), seconds, cpu)


async def run(args: argparse.Namespace) -> list[Result]:
    schema = f"kt_bench_relay_{secrets.token_hex(4)}"
    admin = Database(make_engine(PG_URL))
    async with admin.engine.begin() as conn:
        await conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    receivers = {"sms": Receiver("sms"), "smtp": Receiver("smtp")}
    relay: Relay | None = None
    try:
        await asyncio.gather(*(r.start() for r in receivers.values()))
        settings = Settings(
            database_url=PG_URL,
            database_schema=schema,
            sms_gateway_url=f"http://127.0.0.1:{receivers['sms'].port}/sms",
            smtp_url=f"smtp://127.0.0.1:{receivers['smtp'].port}{args.smtp_options}",
        )
        db = Database(make_engine(PG_URL, schema=schema))
        await upgrade(db.engine)
        relay = relay_for(settings, db, SystemClock())
        relay.batch = args.batch
        results = [
            await phase("sms", relay, sms(args.sms), ["sms"], args.timeout),
            await phase(
                "email", relay, emails(args.emails, args.domains, args.qr), ["email"], args.timeout
            ),
            await phase(
                "mixed (sms + email at once)",
                relay,
                sms(args.sms // 2) + emails(args.emails // 2, args.domains, args.qr),
                ["sms", "email"],
                args.timeout,
            ),
        ]
    finally:
        if relay is not None:
            await relay.aclose()
            await relay.db.dispose()
        counts = {k: await r.stop() for k, r in receivers.items() if r.proc is not None}
        async with admin.engine.begin() as conn:
            await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.dispose()
    expected_sms = args.sms + args.sms // 2
    expected_mail = args.emails + args.emails // 2
    print(
        f"receivers accepted: sms {counts.get('sms')} (queued {expected_sms}), "
        f"e-mail {counts.get('smtp')} (queued {expected_mail})"
    )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sms", type=int, default=20000)
    parser.add_argument("--emails", type=int, default=6000)
    parser.add_argument("--domains", type=int, default=20, help="recipient domains for e-mail")
    parser.add_argument("--batch", type=int, default=200, help="messages per claim")
    parser.add_argument("--smtp-options", default="", help='e.g. "?connections=8"')
    parser.add_argument("--qr", action="store_true", help="e-mails carry a QR door ticket")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per phase at most")
    args = parser.parse_args()
    import uvloop

    results = uvloop.run(run(args))
    print(f"{'phase':<28} {'messages':>8} {'seconds':>8} {'per second':>10} {'per CPU-s':>10}")
    for r in results:
        print(
            f"{r.phase:<28} {r.messages:>8} {r.seconds:>8.2f} {r.rate:>10.0f} {r.cpu_rate:>10.0f}"
        )


if __name__ == "__main__":
    main()
