"""The lock-out stores (in memory, and the real local Redis under a random key prefix deleted
afterwards) held to one scenario, Redis's counts shared and expiring, the fallback to memory
while Redis is down, and a burst of parallel guesses through the booking lookup.

Time comes from a FixedClock: nothing here sleeps.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from kontingent.app import Services
from kontingent.booking.lookups import LookupLocked
from kontingent.clock import FixedClock
from kontingent.config import Settings
from kontingent.errors import NotFound
from kontingent.ratelimit.lockouts import (
    Lockout,
    Lockouts,
    LockoutStore,
    MemoryLockouts,
    RedisLockouts,
    StoreUnavailable,
    lockouts_for,
)
from tests.support import REDIS_URL, T0, claims_for, delete_redis_prefix, person, phone

DEAD_REDIS_URL = "redis://127.0.0.1:9/0"  # discard port: nothing listens there
RULE = Lockout(free=5, first_s=60)
NOW = T0.timestamp()
SECRET = "secret-" + "k" * 30


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    prefix = f"kt_test_lockout_{secrets.token_hex(4)}:"
    yield prefix
    await delete_redis_prefix(prefix)


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
async def store(request: pytest.FixtureRequest, redis_prefix: str) -> AsyncIterator[LockoutStore]:
    lockouts: LockoutStore = (
        MemoryLockouts()
        if request.param == "memory"
        else RedisLockouts.from_url(REDIS_URL, redis_prefix)
    )
    yield lockouts
    await lockouts.aclose()


async def test_hardening_2_the_stores_lock_a_subject_out_with_a_doubling_cool_down(
    store: LockoutStore,
) -> None:
    """Both stores give a guesser 5 free tries, then 60, 120, 240 s of waiting between tries."""
    assert [await store.attempt("code", RULE, NOW) for _ in range(5)] == [0.0] * 5
    assert await store.attempt("code", RULE, NOW + 20) == pytest.approx(40)
    assert await store.attempt("other", RULE, NOW + 20) == 0  # another subject: its own count
    now = NOW + 60
    for cool_down in (120, 240):
        assert await store.attempt("code", RULE, now) == 0
        assert await store.attempt("code", RULE, now) == pytest.approx(cool_down)
        now += cool_down
    await store.clear("code")  # a right answer: five free tries again
    assert [await store.attempt("code", RULE, now) for _ in range(5)] == [0.0] * 5
    assert await store.attempt("code", RULE, now) == pytest.approx(60)


async def test_the_count_outlives_the_cool_down_and_is_forgotten_after_a_quiet_day(
    store: LockoutStore,
) -> None:
    for _ in range(5):
        await store.attempt("code", RULE, NOW)
    later = NOW + 60 + 3600  # cooled down an hour ago: the next wrong one still doubles
    assert await store.attempt("code", RULE, later) == 0
    assert await store.attempt("code", RULE, later) == pytest.approx(120)
    quiet = later + 120 + RULE.memory_s + 1
    assert [await store.attempt("code", RULE, quiet) for _ in range(5)] == [0.0] * 5


@pytest.mark.redis
async def test_redis_counts_are_shared_and_expire(redis_prefix: str) -> None:
    """Two processes count one code's guesses together; a key lives until forgotten."""
    one = RedisLockouts.from_url(REDIS_URL, redis_prefix)
    two = RedisLockouts.from_url(REDIS_URL, redis_prefix)
    try:
        for lockouts in (one, two, one, two, one):
            assert await lockouts.attempt("k", RULE, NOW) == 0
        assert await two.attempt("k", RULE, NOW) == pytest.approx(60)
        ttl_ms = await one.client.pttl(redis_prefix + "k")
        assert (60 + RULE.memory_s - 1) * 1000 < ttl_ms <= (60 + RULE.memory_s) * 1000
    finally:
        await one.aclose()
        await two.aclose()


async def test_hardening_2_a_dead_redis_falls_back_to_counting_in_memory() -> None:
    """Redis being down neither opens the door to unlimited guesses nor locks everyone out."""
    dead = RedisLockouts.from_url(DEAD_REDIS_URL, "x:")
    with pytest.raises(StoreUnavailable):
        await dead.attempt("k", RULE, NOW)
    clock = FixedClock(T0)
    lockouts = Lockouts(dead, RULE, clock, SECRET, "booking_lookup")
    try:
        assert [await lockouts.attempt("K7QM-3XPA-9RTD") for _ in range(5)] == [0.0] * 5
        assert await lockouts.attempt("K7QM-3XPA-9RTD") == pytest.approx(60)
        clock.advance(timedelta(seconds=5))  # past the pause: Redis is asked again, still dead
        assert await lockouts.attempt("K7QM-3XPA-9RTD") == pytest.approx(55)
        await lockouts.clear("K7QM-3XPA-9RTD")
        assert await lockouts.attempt("K7QM-3XPA-9RTD") == 0
    finally:
        await lockouts.aclose()


async def test_subjects_are_stored_as_keyed_hashes() -> None:
    store = MemoryLockouts()
    lockouts = Lockouts(store, RULE, FixedClock(T0), SECRET, "booking_lookup")
    await lockouts.attempt("K7QM-3XPA-9RTD")
    [key] = store._states
    assert key.startswith("booking_lookup:") and "K7QM" not in key


async def test_hardening_2_parallel_guesses_cannot_pass_the_count_together(
    services: Services,
) -> None:
    """20 birth dates sent at once for one code: 5 are compared, 15 wait out the cool-down."""
    claims = await claims_for(services, phone(40))
    offer = (await services.inventory.offers(1, "BNT", persons=1, limit=1)).offers[0]
    view = await services.booking.book(claims, [person(40)], offer.slot_ids, None)
    scope = {"type": "http", "client": ("192.0.2.1", 40000), "headers": []}
    barrier = asyncio.Barrier(21)

    async def guess(day: int) -> object:
        await barrier.wait()
        return await services.lookups.find(scope, view.code, f"1940-01-{day:02d}")

    tasks = [asyncio.create_task(guess(day)) for day in range(1, 21)]
    await barrier.wait()
    outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert sum(isinstance(o, NotFound) for o in outcomes) == 5
    assert sum(isinstance(o, LookupLocked) for o in outcomes) == 15


@pytest.mark.redis
async def test_with_redis_configured_the_lookup_lockout_counts_in_redis(redis_prefix: str) -> None:
    settings = Settings(redis_url=REDIS_URL, redis_prefix=redis_prefix)
    lockouts = lockouts_for(settings, FixedClock(T0), "booking_lookup", redis_prefix + "lockout:")
    try:
        assert isinstance(lockouts.store, RedisLockouts)
        assert lockouts.rule == Lockout(5, 60.0)
        for _ in range(5):
            await lockouts.attempt("K7QM-3XPA-9RTD")
        assert await lockouts.attempt("K7QM-3XPA-9RTD") == pytest.approx(60)
        keys = await lockouts.store.client.keys(f"{redis_prefix}lockout:booking_lookup:*")
        assert len(keys) == 1 and b"K7QM" not in keys[0]
    finally:
        await lockouts.aclose()


def test_the_lookup_lockout_can_be_switched_off_but_not_by_rate_limits_false() -> None:
    clock = FixedClock(T0)
    assert lockouts_for(Settings(rate_limits=False), clock, "booking_lookup", "x:").rule
    off = Settings(rate_booking_lookup_per_code="off")
    assert lockouts_for(off, clock, "booking_lookup", "x:").rule is None
