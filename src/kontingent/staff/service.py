"""Staff use cases: accounts, logging in and out, and who a request's token belongs to.

Invariants kept here:
- argon2 runs only when a password is given (login, a new or reset password), in a thread so
  the event loop keeps serving; every other request looks up the token's SHA-256, read from
  the database at most once a second per process (staff/sessions.py, issue 15): a logout, a
  disabled account or a reset password here is refused at once, a revocation by another
  process within that second. The idle and absolute ends are checked on every request.
- A login answers the same for an unknown user name, a disabled account and a wrong
  password (401 `login_failed`), and takes about as long: an unknown name is verified
  against a dummy hash.
- Five wrong passwords for one user name within 15 minutes lock that name for 15 minutes
  (ratelimit/lockouts.py, counted before the password is checked, so a burst of guesses
  cannot all slip through, and a locked name costs no argon2). Unknown names are locked
  the same way, so the lock reveals nothing either. Failure policy: the lock-out's own (it
  falls back to this process's memory while Redis is down, never fails open).
- Each account change, login, failed login and logout writes its audit row in the same
  transaction as its effect. Disabling an account or resetting its password ends its
  sessions in that transaction too.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.ext.asyncio import AsyncConnection

from kontingent.clock import Clock
from kontingent.db import Database
from kontingent.errors import InvalidInput, NotFound, RateLimited, Unauthorized
from kontingent.ratelimit.lockouts import Lockouts
from kontingent.staff import audit
from kontingent.staff import repository as repo
from kontingent.staff.audit import Actor, Entry
from kontingent.staff.model import (
    Lifetimes,
    Principal,
    Role,
    SessionKind,
    StaffUser,
    centre_problem,
    new_token,
    normalise_username,
    password_problem,
    session_end,
    token_hash,
    username_problem,
)
from kontingent.staff.sessions import LiveSession, SessionCache

TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often per session
DEMO_ACCOUNTS = (
    ("demo-agent", Role.agent, ()),
    ("demo-centre", Role.centre_staff, (1,)),
    ("demo-admin", Role.admin, ()),
)


class LoginFailed(Unauthorized):
    code = "login_failed"


class LoginLocked(RateLimited):
    code = "login_locked"


@dataclass(frozen=True, slots=True)
class Login:
    token: str
    principal: Principal
    expires_at: datetime


class Staff:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        lifetimes: Lifetimes,
        lockouts: Lockouts,
        hasher: PasswordHasher | None = None,
        sessions: SessionCache | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.lifetimes = lifetimes
        self.lockouts = lockouts
        self.hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None
        self.sessions = sessions or SessionCache()

    # --- accounts ---------------------------------------------------------------------------

    async def add_user(
        self,
        username: str,
        role: Role,
        password: str,
        centre_ids: Sequence[int],
        entry: Entry,
    ) -> StaffUser:
        username = normalise_username(username)
        centres = tuple(sorted(set(centre_ids)))
        problem = (
            username_problem(username)
            or centre_problem(role, centres)
            or password_problem(password, username)
        )
        if problem:
            raise InvalidInput(problem)
        hashed = await asyncio.to_thread(self.hasher.hash, password)

        async def work(conn: AsyncConnection) -> StaffUser:
            if await repo.user_with_hash(conn, username) is not None:
                raise InvalidInput(f"the user name {username!r} is taken: choose another")
            missing = await repo.unknown_centres(conn, centres)
            if missing:
                raise InvalidInput(f"there is no centre with the id {missing[0]}")
            now = self.clock.now()
            user_id = await repo.insert_user(conn, username, role, hashed, centres, now)
            details = {"role": role.value, "centre_ids": list(centres)}
            await audit.record(conn, _with(entry, "user_add", username, details), now)
            return StaffUser(user_id, username, role, centres, False)

        return await self.db.run_write(work)

    async def users(self) -> list[StaffUser]:
        async with self.db.read() as conn:
            return await repo.users(conn)

    async def disable(self, username: str, entry: Entry) -> None:
        async def work(conn: AsyncConnection) -> int:
            user = await self._user(conn, username)
            now = self.clock.now()
            await repo.set_disabled(conn, user.id, True)
            await repo.revoke_sessions_of(conn, user.id, now)
            await audit.record(conn, _with(entry, "user_disable", user.username), now)
            return user.id

        self.sessions.forget_user(await self.db.run_write(work))

    async def reset_password(self, username: str, password: str, entry: Entry) -> None:
        name = normalise_username(username)
        problem = password_problem(password, name)
        if problem:
            raise InvalidInput(problem)
        hashed = await asyncio.to_thread(self.hasher.hash, password)

        async def work(conn: AsyncConnection) -> int:
            user = await self._user(conn, name)
            now = self.clock.now()
            await repo.set_password(conn, user.id, hashed, now)
            await repo.revoke_sessions_of(conn, user.id, now)
            await audit.record(conn, _with(entry, "user_reset_password", user.username), now)
            return user.id

        self.sessions.forget_user(await self.db.run_write(work))
        await self.lockouts.clear(name)

    async def _user(self, conn: AsyncConnection, username: str) -> StaffUser:
        found = await repo.user_with_hash(conn, normalise_username(username))
        if found is None:
            raise NotFound(f"there is no staff account {username!r}: see `kontingent user list`")
        return found[0]

    # --- sessions ---------------------------------------------------------------------------

    async def login(
        self, username: str, password: str, kind: SessionKind, channel: str, ip: str | None
    ) -> Login:
        name = normalise_username(username)[:64]
        wait = await self.lockouts.attempt(name)
        if wait > 0:
            await self._record(Entry(Actor(name), "login_locked", channel, ip=ip))
            raise LoginLocked(
                "too many wrong passwords for this user name: try again in "
                f"{max(1, round(wait / 60))} minutes, or ask an admin to reset the password",
                retry_after_s=max(1, int(wait + 0.999)),
            )
        user = await self._check_password(name, password)
        if user is None:
            await self._record(Entry(Actor(name), "login_failed", channel, ip=ip))
            raise LoginFailed(
                "wrong user name or password: check both and try again (after five wrong "
                "attempts the name is locked for 15 minutes)"
            )
        await self.lockouts.clear(name)
        return await self.db.run_write(lambda conn: self._open(conn, user, kind, channel, ip))

    async def _check_password(self, name: str, password: str) -> StaffUser | None:
        async with self.db.read() as conn:
            found = await repo.user_with_hash(conn, name)
        if found is None or found[0].disabled:
            await self._verify(await self._dummy(), password)  # the same time as a real check
            return None
        return found[0] if await self._verify(found[1], password) else None

    async def _verify(self, hashed: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self.hasher.verify, hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self.hasher.hash, secrets.token_hex(16))
        return self._dummy_hash

    async def _open(
        self,
        conn: AsyncConnection,
        user: StaffUser,
        kind: SessionKind,
        channel: str,
        ip: str | None,
    ) -> Login:
        now = self.clock.now()
        token = new_token()
        absolute = now + self.lifetimes.absolute
        session_id = await repo.insert_session(
            conn, user.id, token_hash(token), kind, now, absolute, ip
        )
        principal = Principal(user.id, user.username, user.role, user.centre_ids, session_id, kind)
        details = {"session": session_id, "kind": kind.value}
        await audit.record(
            conn, Entry(Actor.of(principal), "login", channel, None, ip, details), now
        )
        return Login(token, principal, session_end(kind, now, now, self.lifetimes))

    async def authenticate(self, token: str | None, kind: SessionKind) -> Principal | None:
        """The principal of a live session of `kind`; None for anything else."""
        if not token or len(token) > 100:
            return None
        hashed = token_hash(token)
        now = self.clock.now()
        live = self.sessions.get(hashed)
        # A kept read stands in for a new one only while it leads to the same answer: the
        # session neither ended nor due a touch by its times (staff/sessions.py).
        if live is None or self._due(live, kind, now):
            live = await self._read_session(hashed)
            if live is None:
                return None
        if live.principal.kind is not kind:
            return None
        if now >= session_end(kind, live.created, live.last_seen, self.lifetimes):
            return None
        if now - live.last_seen >= TOUCH_EVERY:
            session_id = live.principal.session_id
            await self.db.run_write(lambda conn: repo.touch_session(conn, session_id, now))
            self.sessions.touched(hashed, now)
        return live.principal

    def _due(self, live: LiveSession, kind: SessionKind, now: datetime) -> bool:
        """Ended or due a touch by the times read: read anew before deciding either."""
        ends = session_end(kind, live.created, live.last_seen, self.lifetimes)
        return now >= ends or now - live.last_seen >= TOUCH_EVERY

    async def _read_session(self, hashed: str) -> LiveSession | None:
        generation = self.sessions.generation  # a forget after this: the read is not kept
        if self.db.has_driver:
            found = await self.db.run_driver(partial(repo.session_by_hash_pg, token_hash=hashed))
        else:
            async with self.db.read() as conn:
                found = await repo.session_by_hash(conn, hashed)
        if found is None:
            return None
        live = LiveSession(*found)
        kind = live.principal.kind
        if self.clock.now() < session_end(kind, live.created, live.last_seen, self.lifetimes):
            self.sessions.put(hashed, live, generation)
        return live

    async def logout(self, principal: Principal, channel: str, ip: str | None) -> None:
        async def work(conn: AsyncConnection) -> None:
            now = self.clock.now()
            await repo.revoke_session(conn, principal.session_id, now)
            entry = Entry(Actor.of(principal), "logout", channel, None, ip)
            await audit.record(conn, entry, now)

        await self.db.run_write(work)
        self.sessions.forget_session(principal.session_id)

    # --- audit ------------------------------------------------------------------------------

    async def _record(self, entry: Entry) -> None:
        """An action whose only effect is its audit row (a failed login, a lookup)."""
        await self.db.run_write(lambda conn: audit.record(conn, entry, self.clock.now()))

    async def audit_page(self, filters: audit.Filters) -> tuple[list[dict[str, Any]], int | None]:
        async with self.db.read() as conn:
            return await audit.entries(conn, filters)

    # --- demo -------------------------------------------------------------------------------

    async def demo_accounts(self, entry: Entry) -> list[tuple[str, Role, str]]:
        """One account per role with a new random password each start (demo mode only)."""
        made = []
        known = {u.username for u in await self.users()}
        for username, role, centres in DEMO_ACCOUNTS:
            password = secrets.token_urlsafe(12)
            if username in known:
                await self.reset_password(username, password, entry)
            else:
                await self.add_user(username, role, password, centres, entry)
            made.append((username, role, password))
        return made


def _with(
    entry: Entry, action: str, target: str, details: Mapping[str, object] | None = None
) -> Entry:
    return Entry(entry.actor, action, entry.channel, target, entry.ip, details or {})
