"""The session cache in pure terms (staff/sessions.py): kept at most a second, forgotten by
session or account, and a read begun before a forget is never kept."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kontingent.staff import sessions
from kontingent.staff.model import Principal, Role, SessionKind
from kontingent.staff.sessions import SESSION_TRUST_S, LiveSession, SessionCache
from tests.support import T0


class Ticks:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def live(session_id: int, user_id: int = 1) -> LiveSession:
    principal = Principal(user_id, f"u{user_id}", Role.agent, (), session_id, SessionKind.browser)
    return LiveSession(principal, T0, T0)


def test_an_entry_is_kept_for_its_ttl_and_not_longer() -> None:
    ticks = Ticks()
    cache = SessionCache(monotonic=ticks)
    cache.put("a", live(1), cache.generation)
    ticks.now += SESSION_TRUST_S - 0.001
    assert cache.get("a") == live(1)
    ticks.now += 0.001
    assert cache.get("a") is None
    assert cache.size() == 0  # an expired entry goes at its first miss


def test_a_read_begun_before_a_forget_is_not_kept() -> None:
    cache = SessionCache(monotonic=Ticks())
    begun = cache.generation
    cache.forget_session(7)  # a logout committed while the read was under way
    cache.put("a", live(1), begun)
    assert cache.get("a") is None
    cache.put("a", live(1), cache.generation)
    assert cache.get("a") == live(1)


def test_forgetting_a_session_or_an_account_drops_only_theirs() -> None:
    cache = SessionCache(monotonic=Ticks())
    for key, entry in {"a": live(1, 1), "b": live(2, 1), "c": live(3, 2)}.items():
        cache.put(key, entry, cache.generation)
    cache.forget_session(3)
    assert cache.get("c") is None and cache.get("a") is not None
    cache.forget_user(1)
    assert cache.size() == 0


def test_a_touch_changes_last_seen_and_keeps_the_expiry() -> None:
    ticks = Ticks()
    cache = SessionCache(monotonic=ticks)
    cache.put("a", live(1), cache.generation)
    ticks.now += 0.5
    later = T0 + timedelta(minutes=2)
    cache.touched("a", later)
    found = cache.get("a")
    assert found is not None and found.last_seen == later and found.created == T0
    ticks.now += 0.5
    assert cache.get("a") is None  # the touch did not lengthen the second
    cache.touched("b", later)  # nothing kept: nothing to change
    assert cache.size() == 0


@pytest.mark.parametrize("ttl_s", [-0.1, SESSION_TRUST_S + 0.1, 60.0])
def test_no_session_is_trusted_longer_than_a_second(ttl_s: float) -> None:
    with pytest.raises(ValueError, match="trusted 0 to"):
        SessionCache(ttl_s)


def test_a_ttl_of_zero_keeps_nothing() -> None:
    cache = SessionCache(0)
    cache.put("a", live(1), cache.generation)
    assert cache.get("a") is None


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "MAX_SESSIONS", 3)
    cache = SessionCache(monotonic=Ticks())
    for i in range(4):
        cache.put(str(i), live(i), cache.generation)
    assert cache.size() <= 3 and cache.get("3") == live(3)
