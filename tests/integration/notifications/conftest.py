"""Fixtures for relay tests: a local SMS gateway and SMTP server, and relays wired to them.

Every relay made here is closed after the test, so no connection outlives it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import pytest
from sqlalchemy import select

from kontingent.app import Services
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.notifications import repository as repo
from kontingent.notifications.model import Message, RetryPolicy
from kontingent.notifications.service import Relay
from kontingent.notifications.transports import relay_for
from kontingent.schema import outbox
from tests.integration.notifications.servers import SmsGateway, SmtpSink

MakeRelay = Callable[..., Relay]


@pytest.fixture
async def gateway() -> AsyncIterator[SmsGateway]:
    server = SmsGateway()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpSink]:
    server = SmtpSink()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def make_relay(services: Services, clock: FixedClock) -> AsyncIterator[MakeRelay]:
    """Relays built the way `build_services` builds them, from settings with these URLs."""
    made: list[Relay] = []

    def make(
        *,
        sms_url: str | None = None,
        smtp_url: str | None = None,
        batch: int = 200,
        policy: RetryPolicy | None = None,
        services: Services = services,
    ) -> Relay:
        settings = dataclasses.replace(
            services.settings, sms_gateway_url=sms_url, smtp_url=smtp_url
        )
        relay = relay_for(settings, services.db, clock)
        relay.batch = batch
        relay.policy = policy or relay.policy
        made.append(relay)
        return relay

    yield make
    for relay in made:
        await relay.aclose()


async def queue(services: Services, messages: Sequence[Message]) -> None:
    async def work(conn: Any) -> None:
        await repo.enqueue(conn, messages, services.clock.now(), services.booking.cap)

    await services.db.run_write(work)


async def rows(services: Services) -> list[dict[str, Any]]:
    async with services.db.read() as conn:
        result = await conn.execute(select(outbox).order_by(outbox.c.id))
        return [dict(r._mapping) for r in result.all()]


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    env = {"KONTINGENT_DATABASE_URL": settings.database_url, **extra}
    if settings.database_schema:
        env["KONTINGENT_DATABASE_SCHEMA"] = settings.database_schema
    return env


async def start_worker(
    services: Services, gateway: SmsGateway, *options: str, **popen: Any
) -> asyncio.subprocess.Process:
    """`kontingent worker` in a process of its own, relaying to `gateway`; stderr piped."""
    env = {**os.environ, **environment(services.settings, KONTINGENT_SMS_GATEWAY_URL=gateway.url)}
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "kontingent", "worker", *options),
        env=env,
        stderr=asyncio.subprocess.PIPE,
        **popen,
    )
