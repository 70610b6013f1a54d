"""The staff sessions a process keeps for a second (staff/sessions.py, issue 15), on SQLite and
PostgreSQL: a logout, a disabled account and a reset password are refused at once in the
process that made them and within a second in any other; the idle and absolute ends and the
once-a-minute touch of last-seen hold as they did without it. Time moves by the injected
clock and a monotonic clock the test moves, never by sleeping."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from kontingent.app import Services, build_services
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.staff.audit import Channel
from kontingent.staff.model import SessionKind
from kontingent.staff.service import Login
from kontingent.staff.sessions import SESSION_TRUST_S
from kontingent.staff.tables import staff_sessions
from tests.integration.staff.conftest import BY_CLI, PASSWORD, add_accounts

IP = "192.0.2.9"
BROWSER, API = SessionKind.browser, SessionKind.api


class Ticks:
    """A monotonic clock for the session cache that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(services: Services) -> Ticks:
    moved = Ticks()
    services.staff.sessions.monotonic = moved
    return moved


@pytest.fixture
async def other(settings: Settings, clock: FixedClock) -> AsyncIterator[Services]:
    """Another process on the same database: services, and so a memory, of its own."""
    built = build_services(settings, clock)
    yield built
    await built.db.dispose()


async def login(services: Services, name: str, kind: SessionKind = BROWSER) -> Login:
    return await services.staff.login(name, PASSWORD, kind, Channel.browser, IP)


async def live(services: Services, done: Login) -> bool:
    return await services.staff.authenticate(done.token, done.principal.kind) is not None


async def last_seen(services: Services, done: Login) -> datetime:
    async with services.db.read() as conn:
        query = select(staff_sessions.c.last_seen_at).where(
            staff_sessions.c.id == done.principal.session_id
        )
        found: datetime = (await conn.execute(query)).scalar_one()
    return found


async def test_a_logout_is_refused_at_once_in_this_process(
    services: Services, ticks: Ticks
) -> None:
    await add_accounts(services)
    done = await login(services, "agent.anna")
    assert await live(services, done)
    assert services.staff.sessions.size() == 1  # kept: the next request reads no database
    await services.staff.logout(done.principal, Channel.browser, IP)
    assert not await live(services, done)  # the monotonic clock has not moved
    assert services.staff.sessions.size() == 0


async def test_disabling_or_resetting_refuses_every_kept_session_at_once(
    services: Services, ticks: Ticks
) -> None:
    await add_accounts(services)
    page, script = await login(services, "agent.anna"), await login(services, "agent.anna", API)
    carl = await login(services, "centre.carl")
    ada = await login(services, "admin.ada")
    for done in (page, script, carl, ada):
        assert await live(services, done)
    await services.staff.disable("agent.anna", BY_CLI)
    assert not await live(services, page) and not await live(services, script)
    assert await live(services, carl)
    await services.staff.reset_password("centre.carl", "ein ganz neues Passwort", BY_CLI)
    assert not await live(services, carl)
    assert await live(services, ada)  # the others' sessions are untouched


@pytest.mark.parametrize("action", ["logout", "disable", "reset-password"])
async def test_a_revocation_in_another_process_is_refused_within_a_second(
    services: Services, other: Services, ticks: Ticks, action: str
) -> None:
    await add_accounts(services)
    done = await login(services, "agent.anna")
    assert await live(services, done)
    if action == "logout":
        await other.staff.logout(done.principal, Channel.browser, IP)
    elif action == "disable":
        await other.staff.disable("agent.anna", BY_CLI)
    else:
        await other.staff.reset_password("agent.anna", "ein ganz neues Passwort", BY_CLI)
    assert not await live(other, done)  # the process that revoked: at once
    ticks.now += SESSION_TRUST_S / 2
    assert await live(services, done)  # still this process's read of a moment ago ...
    ticks.now += SESSION_TRUST_S / 2
    assert not await live(services, done)  # ... which is not kept longer than a second
    assert SESSION_TRUST_S <= 1.0


async def test_the_idle_and_absolute_ends_hold_for_a_kept_session(
    services: Services, clock: FixedClock, ticks: Ticks
) -> None:
    await add_accounts(services)
    idle, busy = await login(services, "agent.anna"), await login(services, "admin.ada")
    assert await live(services, idle) and await live(services, busy)
    clock.advance(timedelta(minutes=20))
    assert await live(services, busy)  # touched
    clock.advance(timedelta(minutes=10))  # the monotonic clock unmoved: both still kept
    assert not await live(services, idle)  # 30 minutes without a request
    assert await live(services, busy)
    for _ in range(23):  # a request every 30 minutes less a second, up to 11:59:37
        clock.advance(timedelta(minutes=30) - timedelta(seconds=1))
        assert await live(services, busy)
    clock.advance(timedelta(seconds=24))  # 12 hours and a second after the login
    assert not await live(services, busy)


async def test_last_seen_is_still_written_at_most_once_a_minute(
    services: Services, clock: FixedClock, ticks: Ticks
) -> None:
    await add_accounts(services)
    done = await login(services, "agent.anna")
    opened = clock.now()
    for _ in range(5):  # every 10 s for 50 s: kept, and not written
        clock.advance(timedelta(seconds=10))
        assert await live(services, done)
    assert await last_seen(services, done) == opened
    clock.advance(timedelta(seconds=10))  # a minute after the last write: written
    assert await live(services, done)
    touched = clock.now()
    assert await last_seen(services, done) == touched
    clock.advance(timedelta(seconds=59))
    assert await live(services, done)
    assert await last_seen(services, done) == touched  # the kept entry knows of the write


async def test_a_touch_written_elsewhere_is_read_before_writing_again(
    services: Services, other: Services, clock: FixedClock, ticks: Ticks
) -> None:
    await add_accounts(services)
    done = await login(services, "agent.anna")
    assert await live(services, done) and await live(other, done)
    clock.advance(timedelta(minutes=1))
    assert await live(other, done)  # the other process writes last-seen
    touched = await last_seen(services, done)
    assert touched == clock.now()
    clock.advance(timedelta(seconds=5))
    assert await live(services, done)  # due by its kept read: read anew, found touched
    assert await last_seen(services, done) == touched


async def test_only_live_sessions_are_kept_and_a_kind_is_never_the_other(
    services: Services, ticks: Ticks
) -> None:
    await add_accounts(services)
    for nonsense in ("", "x" * 101, "no such token"):
        assert await services.staff.authenticate(nonsense, BROWSER) is None
    ended = await login(services, "agent.anna")
    await services.staff.logout(ended.principal, Channel.browser, IP)
    assert not await live(services, ended)
    assert services.staff.sessions.size() == 0
    page = await login(services, "admin.ada")
    assert await live(services, page)
    assert await services.staff.authenticate(page.token, API) is None  # kept, still a cookie
