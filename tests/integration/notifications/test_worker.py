"""The relay as it runs for real: `kontingent worker`, embedded in the app, and what operators
see of parked messages (`worker --status`, `--requeue-parked`, /api/v1/dev/outbox)."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from datetime import timedelta
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from typer.testing import CliRunner

from kontingent.app import Services, create_app
from kontingent.cli import app as cli
from kontingent.clock import FixedClock
from kontingent.jobs.service import PURGE_EVERY, scheduler_for
from kontingent.notifications.model import Message
from kontingent.notifications.service import SENT_RETENTION, purge_sent
from tests.integration.notifications.conftest import (
    MakeRelay,
    environment,
    queue,
    rows,
    start_worker,
)
from tests.integration.notifications.servers import SmsGateway
from tests.support import phone


async def park_one(services: Services, gateway: SmsGateway, make_relay: MakeRelay) -> str:
    gateway.refuse = {phone(1)}
    await queue(services, [Message("sms", phone(1), "Impftermin gebucht.")])
    await make_relay(sms_url=gateway.url).run_once()
    [row] = await rows(services)
    assert row["parked_at"] is not None
    return str(row["message_id"])


async def test_worker_status_lists_parked_messages_and_requeue_gives_them_new_tries(
    services: Services, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    message_id = await park_one(services, gateway, make_relay)
    runner = CliRunner()
    env = environment(services.settings)

    shown = await asyncio.to_thread(runner.invoke, cli, ["worker", "--status"], env=env)
    assert shown.exit_code == 0, shown.output
    assert message_id in shown.output and "400" in shown.output

    again = await asyncio.to_thread(runner.invoke, cli, ["worker", "--requeue-parked"], env=env)
    assert again.exit_code == 0, again.output
    [row] = await rows(services)
    assert row["parked_at"] is None and row["attempts"] == 0


async def test_the_dev_outbox_shows_the_backlog_and_parked_messages(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    message_id = await park_one(services, gateway, make_relay)
    await queue(services, [Message("email", "a@mail.test", "Text", subject="S")])

    async with AsyncTestClient(create_app(services.settings, clock)) as client:
        response = await client.get("/api/v1/dev/outbox")

    assert response.status_code == 200
    body = response.json()
    channels = {c["channel"]: c for c in body["channels"]}
    assert channels["sms"]["parked"] == 1 and channels["email"]["due"] == 1
    [parked] = body["parked"]
    assert parked["message_id"] == message_id and "400" in parked["last_error"]


async def test_the_embedded_relay_delivers_a_pin_while_the_app_serves(
    services: Services, clock: FixedClock, gateway: SmsGateway
) -> None:
    settings = dataclasses.replace(
        services.settings, sms_gateway_url=gateway.url, embedded_relay=True
    )
    async with AsyncTestClient(create_app(settings, clock)) as client:
        response = await client.post("/api/v1/verifications", json={"phone": phone(3)})
        assert response.status_code == 201
        await gateway.wait_for(1)

    [sms] = gateway.accepted
    assert sms.to == phone(3) and "PIN" in sms.text


async def stop_worker(worker: asyncio.subprocess.Process) -> str:
    """SIGTERM, as an operator stops it; what it wrote to stderr."""
    worker.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(worker.communicate(), timeout=15)
    return stderr.decode()


@pytest.mark.slow
async def test_kontingent_worker_relays_until_sigterm_and_exits_cleanly(
    services: Services, gateway: SmsGateway
) -> None:
    await queue(services, [Message("sms", phone(i), f"Nachricht {i}") for i in range(3)])
    worker = await start_worker(services, gateway)
    try:
        await gateway.wait_for(3)
    finally:
        stderr = await stop_worker(worker)

    assert worker.returncode == 0, stderr
    assert sorted(s.to for s in gateway.accepted) == [phone(i) for i in range(3)]
    assert all(r["sent_at"] is not None for r in await rows(services))


def _nice_of(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[16])  # the 19th field of stat, counted after the command's name


@pytest.mark.skipif(not os.path.exists("/proc/self/autogroup"), reason="Linux autogroups only")
async def test_worker_with_nice_yields_the_cpu_in_its_session_and_still_relays(
    services: Services, gateway: SmsGateway
) -> None:
    await queue(services, [Message("sms", phone(i), f"Nachricht {i}") for i in range(2)])
    worker = await start_worker(
        services,
        gateway,
        *("--nice", "7"),
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own session, as under systemd: its own autogroup
    )
    try:
        await gateway.wait_for(2)
        assert _nice_of(worker.pid) == _nice_of(os.getpid()) + 7
        autogroup = Path(f"/proc/{worker.pid}/autogroup").read_text()  # noqa: ASYNC240
        assert autogroup.split()[-2:] == ["nice", "7"]
    finally:
        stderr = await stop_worker(worker)
    assert worker.returncode == 0, stderr
    assert "CPU priority lowered by 7 (nice and the session's CPU share)" in stderr


def test_worker_nice_is_refused_outside_0_to_19() -> None:
    result = CliRunner().invoke(cli, ["worker", "--nice", "20"])
    assert result.exit_code == 2
    assert "--nice" in result.output and "less than or equal to 19" in result.output


async def test_purge_sent_deletes_only_sent_rows_past_the_retention(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    parked_id = await park_one(services, gateway, make_relay)
    await queue(services, [Message("sms", phone(i), f"Nachricht {i}") for i in range(2, 7)])
    await make_relay(sms_url=gateway.url).run_once()  # five sent at T0
    clock.advance(timedelta(days=20))
    await queue(services, [Message("sms", phone(8), "neu")])
    await make_relay(sms_url=gateway.url).run_once()  # one sent at T0 + 20 days
    await queue(services, [Message("email", "a@mail.test", "wartet", subject="S")])  # pending

    clock.advance(timedelta(days=15))  # T0 + 35 days: only the first five are past 30 days
    deleted = await purge_sent(services.db, clock.now() - SENT_RETENTION, batch=2)

    assert deleted == 5
    left = await rows(services)
    assert [r["recipient"] for r in left if r["sent_at"] is not None] == [phone(8)]
    assert parked_id in {r["message_id"] for r in left}  # parked: kept for operators
    assert any(r["sent_at"] is None and r["parked_at"] is None for r in left)  # pending: kept
    assert await purge_sent(services.db, clock.now() - SENT_RETENTION) == 0


async def test_worker_purge_sent_flag_deletes_old_sent_rows(
    services: Services, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    await queue(services, [Message("sms", phone(2), "alt")])
    await make_relay(sms_url=gateway.url).run_once()  # sent at T0, long before the wall clock
    runner = CliRunner()
    env = environment(services.settings)

    done = await asyncio.to_thread(runner.invoke, cli, ["worker", "--purge-sent", "30"], env=env)

    assert done.exit_code == 0, done.output
    assert "1 sent message(s) older than 30 day(s) deleted" in done.output
    assert await rows(services) == []


async def test_the_scheduler_purges_sent_rows_past_the_retention(
    services: Services, clock: FixedClock, gateway: SmsGateway, make_relay: MakeRelay
) -> None:
    await queue(services, [Message("sms", phone(2), "alt")])
    await make_relay(sms_url=gateway.url).run_once()  # sent at T0
    scheduler = scheduler_for(services)
    assert (await scheduler.run_due())["outbox_purged"] == 0  # not yet 30 days old

    clock.advance(SENT_RETENTION + PURGE_EVERY)
    assert (await scheduler.run_due())["outbox_purged"] == 1
    assert await rows(services) == []
