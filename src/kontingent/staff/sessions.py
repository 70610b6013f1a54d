"""The staff sessions this process read lately, kept for at most a second (issue 15).

Every staff page and API call needs its session; reading it from the database each time cost
the agent console a database round trip per page (bench/README.md "Portal pages"). An entry
here stands for that read, and nothing else.

Invariants kept here:
- An entry is kept `ttl_s` seconds (at most one, SESSION_TRUST_S) after the read that made
  it, never extended by use: a session revoked or an account disabled by another process
  (another worker, `kontingent user disable`) is refused here within that second.
- A logout, a disabled account and a password reset in this process forget the session's,
  or the account's, entries as soon as their transaction committed, and no read begun before
  that is kept (the generation): this process refuses them at once.
- Only live sessions are kept; an unknown, revoked or ended token is read again each time,
  so nothing anyone sends can fill the memory, which holds at most MAX_SESSIONS entries.
- The idle and absolute ends are checked on every request against the clock with the times
  read (staff/service.py), and a touch of last-seen updates the entry; an entry never makes
  a session live that the database would call ended.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from kontingent.staff.model import Principal

SESSION_TRUST_S = 1.0  # the longest a revocation elsewhere goes unseen in this process
MAX_SESSIONS = 10_000  # entries; far more staff sessions than live at once


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A session as read: who it is, when it was opened and when it was last seen."""

    principal: Principal
    created: datetime
    last_seen: datetime


class SessionCache:
    def __init__(
        self, ttl_s: float = SESSION_TRUST_S, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        if not 0 <= ttl_s <= SESSION_TRUST_S:
            raise ValueError(f"a session may be trusted 0 to {SESSION_TRUST_S} s, not {ttl_s}")
        self.ttl_s = ttl_s
        self.monotonic = monotonic  # seconds; tests pass a clock they move
        self.generation = 0  # moved on by every forget: reads begun before it are not kept
        self._entries: dict[str, tuple[float, LiveSession]] = {}

    def get(self, token_hash: str) -> LiveSession | None:
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        if entry[0] <= self.monotonic():
            del self._entries[token_hash]
            return None
        return entry[1]

    def put(self, token_hash: str, live: LiveSession, generation: int) -> None:
        """Keep a read begun at `generation`, unless something was forgotten since."""
        if self.ttl_s <= 0 or generation != self.generation:
            return
        if len(self._entries) >= MAX_SESSIONS:
            self._entries.clear()
        self._entries[token_hash] = (self.monotonic() + self.ttl_s, live)

    def touched(self, token_hash: str, at: datetime) -> None:
        """Last-seen written as `at`: the entry says so too, keeping its expiry."""
        entry = self._entries.get(token_hash)
        if entry is not None:
            self._entries[token_hash] = (entry[0], replace(entry[1], last_seen=at))

    def forget_session(self, session_id: int) -> None:
        self._forget(lambda live: live.principal.session_id == session_id)

    def forget_user(self, user_id: int) -> None:
        self._forget(lambda live: live.principal.user_id == user_id)

    def _forget(self, matches: Callable[[LiveSession], bool]) -> None:
        self.generation += 1
        for key in [k for k, (_, live) in self._entries.items() if matches(live)]:
            del self._entries[key]

    def size(self) -> int:
        return len(self._entries)
