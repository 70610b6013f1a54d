"""Staff accounts, logins, lock-out, session lifetimes and the audit log, on SQLite and
PostgreSQL, with the injected clock (no sleeping)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from kontingent.app import Services
from kontingent.clock import FixedClock
from kontingent.errors import InvalidInput, NotFound
from kontingent.staff.audit import Channel
from kontingent.staff.model import Role, SessionKind
from kontingent.staff.service import LoginFailed, LoginLocked
from kontingent.staff.tables import audit_log, staff_users
from tests.integration.staff.conftest import BY_CLI, PASSWORD, add_accounts

IP = "192.0.2.7"


async def actions(services: Services) -> list[tuple[str, str]]:
    async with services.db.read() as conn:
        rows = await conn.execute(
            select(audit_log.c.action, audit_log.c.username).order_by(audit_log.c.id)
        )
        return [(r.action, r.username) for r in rows]


async def login(
    services: Services, name: str, password: str = PASSWORD, kind: SessionKind = SessionKind.api
):  # type: ignore[no-untyped-def]
    return await services.staff.login(name, password, kind, Channel.api, IP)


async def test_a_new_account_is_stored_hashed_with_argon2_and_audited(services: Services) -> None:
    await add_accounts(services)
    async with services.db.read() as conn:
        stored = (await conn.execute(select(staff_users.c.password_hash))).scalars().all()
    assert len(stored) == 3
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in stored)
    assert ("user_add", "cli:test") in await actions(services)
    users = {u.username: u for u in await services.staff.users()}
    assert users["centre.carl"].centre_ids == (1,)


@pytest.mark.parametrize(
    ("name", "role", "password", "centres", "says"),
    [
        ("anna", Role.agent, "kurz", [], "at least 12"),
        ("anna", Role.agent, "password1234", [], "common passwords"),
        ("Anna Maier", Role.agent, PASSWORD, [], "not usable"),
        ("carl", Role.centre_staff, PASSWORD, [], "at least one --centre"),
        ("carl", Role.centre_staff, PASSWORD, [999], "no centre with the id 999"),
        ("ada", Role.admin, PASSWORD, [1], "only centre_staff"),
    ],
)
async def test_bad_accounts_are_refused_with_what_to_fix(
    services: Services, name: str, role: Role, password: str, centres: list[int], says: str
) -> None:
    with pytest.raises(InvalidInput, match=says):
        await services.staff.add_user(name, role, password, centres, BY_CLI)
    assert await services.staff.users() == []


async def test_a_taken_user_name_is_refused(services: Services) -> None:
    await add_accounts(services)
    with pytest.raises(InvalidInput, match="taken"):
        await services.staff.add_user("Agent.Anna", Role.agent, PASSWORD, [], BY_CLI)


async def test_login_gives_a_token_that_authenticates_and_is_audited(services: Services) -> None:
    await add_accounts(services)
    done = await login(services, "agent.anna")
    found = await services.staff.authenticate(done.token, SessionKind.api)
    assert found is not None and found.username == "agent.anna" and found.role is Role.agent
    assert await services.staff.authenticate(done.token, SessionKind.browser) is None
    assert ("login", "agent.anna") in await actions(services)


async def test_wrong_password_and_unknown_name_answer_alike_and_are_audited(
    services: Services,
) -> None:
    await add_accounts(services)
    with pytest.raises(LoginFailed) as wrong:
        await login(services, "agent.anna", "falsches Passwort!")
    with pytest.raises(LoginFailed) as unknown:
        await login(services, "niemand.hier", "falsches Passwort!")
    assert wrong.value.message == unknown.value.message
    assert wrong.value.code == unknown.value.code == "login_failed"
    logged = await actions(services)
    assert ("login_failed", "agent.anna") in logged and ("login_failed", "niemand.hier") in logged


async def test_five_wrong_passwords_lock_the_name_for_15_minutes(
    services: Services, clock: FixedClock
) -> None:
    await add_accounts(services)
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await login(services, "agent.anna", "falsches Passwort!")
    with pytest.raises(LoginLocked) as locked:
        await login(services, "agent.anna")  # even the right password
    assert 14 * 60 < locked.value.retry_after_s <= 15 * 60
    clock.advance(timedelta(minutes=14))
    with pytest.raises(LoginLocked):
        await login(services, "agent.anna")
    clock.advance(timedelta(minutes=1, seconds=1))
    assert (await login(services, "agent.anna")).principal.username == "agent.anna"
    assert ("login_locked", "agent.anna") in await actions(services)


async def test_an_unknown_name_locks_the_same_way_so_the_lock_reveals_nothing(
    services: Services,
) -> None:
    for _ in range(5):
        with pytest.raises(LoginFailed):
            await login(services, "niemand.hier", "falsches Passwort!")
    with pytest.raises(LoginLocked):
        await login(services, "niemand.hier", "falsches Passwort!")


async def test_a_browser_session_ends_after_30_idle_minutes(
    services: Services, clock: FixedClock
) -> None:
    await add_accounts(services)
    token = (await login(services, "admin.ada", kind=SessionKind.browser)).token
    clock.advance(timedelta(minutes=29))
    assert await services.staff.authenticate(token, SessionKind.browser) is not None
    clock.advance(timedelta(minutes=29))  # 29 idle minutes since the last request
    assert await services.staff.authenticate(token, SessionKind.browser) is not None
    clock.advance(timedelta(minutes=31))
    assert await services.staff.authenticate(token, SessionKind.browser) is None


async def test_a_session_in_use_still_ends_12_hours_after_login(
    services: Services, clock: FixedClock
) -> None:
    await add_accounts(services)
    browser = (await login(services, "admin.ada", kind=SessionKind.browser)).token
    api = await login(services, "admin.ada")
    assert api.expires_at == clock.now() + timedelta(hours=12)
    for _ in range(11 * 4 + 3):  # a request every 15 minutes, up to 11:45
        clock.advance(timedelta(minutes=15))
        assert await services.staff.authenticate(browser, SessionKind.browser) is not None
    clock.advance(timedelta(minutes=15))
    assert await services.staff.authenticate(browser, SessionKind.browser) is None
    assert await services.staff.authenticate(api.token, SessionKind.api) is None


async def test_logout_revokes_at_once(services: Services) -> None:
    await add_accounts(services)
    done = await login(services, "agent.anna")
    await services.staff.logout(done.principal, Channel.api, IP)
    assert await services.staff.authenticate(done.token, SessionKind.api) is None
    assert ("logout", "agent.anna") in await actions(services)


async def test_disabling_or_resetting_ends_every_session(services: Services) -> None:
    await add_accounts(services)
    first, second = await login(services, "agent.anna"), await login(services, "centre.carl")
    await services.staff.disable("agent.anna", BY_CLI)
    assert await services.staff.authenticate(first.token, SessionKind.api) is None
    with pytest.raises(LoginFailed):  # disabled answers like a wrong password
        await login(services, "agent.anna")
    await services.staff.reset_password("centre.carl", "ein ganz neues Passwort", BY_CLI)
    assert await services.staff.authenticate(second.token, SessionKind.api) is None
    with pytest.raises(LoginFailed):
        await login(services, "centre.carl")
    assert (await login(services, "centre.carl", "ein ganz neues Passwort")).token
    with pytest.raises(NotFound, match="no staff account"):
        await services.staff.disable("niemand.hier", BY_CLI)


async def test_the_database_refuses_to_change_or_delete_audit_rows(services: Services) -> None:
    await add_accounts(services)
    for statement in (update(audit_log).values(action="forged"), audit_log.delete()):
        with pytest.raises(DBAPIError, match="append-only"):
            async with services.db.write() as conn:
                await conn.execute(statement)
    assert len(await actions(services)) == 3
