"""`kontingent waiting-room status|set` against the local Redis: a change is stored for every
process, and bad input is refused with a message."""

from __future__ import annotations

import asyncio
import random
import secrets
from collections.abc import Iterator
from datetime import datetime

import pytest
from typer.testing import CliRunner

from kontingent.cli import app
from kontingent.clock import BERLIN, FixedClock
from kontingent.config import Settings
from kontingent.db import Database, make_engine
from kontingent.waiting_room import repository
from kontingent.waiting_room.admin import parse_opening
from kontingent.waiting_room.model import Mode, RoomConfig
from kontingent.waiting_room.redis_store import RedisWaitingRoom
from kontingent.waiting_room.service import WaitingRoom
from tests.integration.waiting_room.conftest import SECRET
from tests.support import REDIS_URL, T0, delete_redis_prefix

pytestmark = pytest.mark.redis


def test_parse_opening_takes_the_next_such_minute_in_berlin_or_an_iso_time() -> None:
    at_seven = datetime(2026, 1, 12, 7, 0, tzinfo=BERLIN)
    assert parse_opening("08:00", at_seven) == datetime(2026, 1, 12, 8, tzinfo=BERLIN).timestamp()
    at_nine = datetime(2026, 1, 12, 9, 0, tzinfo=BERLIN)
    assert parse_opening("08:00", at_nine) == datetime(2026, 1, 13, 8, tzinfo=BERLIN).timestamp()
    assert (
        parse_opening("2026-02-01T08:00+01:00", at_nine)
        == datetime(2026, 2, 1, 8, tzinfo=BERLIN).timestamp()
    )
    assert parse_opening("none", at_nine) is None
    for bad in ("tomorrow", "2026-02-01T08:00"):
        with pytest.raises(ValueError):
            parse_opening(bad, at_nine)


@pytest.fixture
def prefix() -> Iterator[str]:
    made = f"kt_test_wr_cli_{secrets.token_hex(4)}:"
    yield made
    asyncio.run(delete_redis_prefix(made))


async def _stored(prefix: str) -> RoomConfig:
    store = RedisWaitingRoom.from_url(REDIS_URL, prefix + "wr:")
    server = WaitingRoom(store, FixedClock(T0), SECRET, RoomConfig(), random.Random(1))
    try:
        await server.stats()
        return server.config
    finally:
        await server.aclose()


async def _kept(settings: Settings) -> RoomConfig | None:
    db = Database(make_engine(settings.database_url, schema=settings.database_schema))
    try:
        async with db.read() as conn:
            return await repository.stored_config(conn)
    finally:
        await db.dispose()


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
def test_set_stores_the_room_for_every_process(
    prefix: str, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    monkeypatch.setenv("KONTINGENT_REDIS_URL", REDIS_URL)
    monkeypatch.setenv("KONTINGENT_REDIS_PREFIX", prefix)
    monkeypatch.setenv("KONTINGENT_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["waiting-room", "set", "--mode", "scheduled", "--opens-at", "2026-01-12T10:00+01:00",
         "--rate", "250"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "scheduled" in result.output and "250 / 250" in result.output
    config = asyncio.run(_stored(prefix))  # as another server process reads it
    assert config.mode is Mode.SCHEDULED and config.rate == 250
    assert config.opens_at == datetime(2026, 1, 12, 10, tzinfo=BERLIN).timestamp()
    assert asyncio.run(_kept(settings)) == config  # and in the database, outliving Redis
    refused = runner.invoke(app, ["waiting-room", "set", "--opens-at", "soon"])
    assert refused.exit_code == 2 and "HH:MM" in refused.output
    assert runner.invoke(app, ["waiting-room", "set"]).exit_code == 2


def test_without_redis_the_command_says_it_needs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KONTINGENT_REDIS_URL", raising=False)
    result = CliRunner().invoke(app, ["waiting-room", "status"])
    assert result.exit_code == 2 and "KONTINGENT_REDIS_URL" in result.output
