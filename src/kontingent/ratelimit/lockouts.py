"""Lock-outs against guessing: a few wrong answers are free, then a cool-down that doubles.

Used where one secret guards one subject (the birth date of a booking code): a rate of
requests is the wrong tool there, because what matters is how many wrong answers one subject
has seen, whoever sent them and however slowly.

Invariants kept here:
- One attempt is one atomic step that decides and counts together. While a subject cools down
  every attempt is refused unasked, right or wrong, so a refusal reveals nothing. An attempt
  let through counts as wrong from the start, until the caller reports it right (`clear`):
  a burst of parallel guesses cannot all pass before the first of them is counted.
- After `free` wrong answers the subject cools down for `first_s`; each further wrong answer
  doubles that, up to `max_s`. The count is kept until `memory_s` after the last cool-down
  ends, so sitting one out does not buy a fresh set of free guesses.
- The store holds keyed hashes of the subjects only (BLAKE2b under the secret key).
- Failure policy: when Redis cannot be reached the counts move to this process's memory.
  Not fail open, which would leave guessing unlimited while Redis is down; not fail closed,
  which would keep everyone from seeing or cancelling a booking (cancelling frees seats
  others need) over a Redis hiccup. In memory the same rule holds per process, so with N
  processes a guesser gains at most N - 1 more sets of free guesses during an outage.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from kontingent.clock import Clock
from kontingent.config import Settings
from kontingent.ratelimit.model import Limit, parse_limit
from kontingent.redis_pool import close_client, request_path_client

log = structlog.get_logger(__name__)
STORE_PAUSE_S = 1.0  # after a failure Redis is left alone this long (as ratelimit/service.py)
MAX_MEMORY_KEYS = 200_000  # then forgotten subjects are swept out
MAX_DOUBLINGS = 40  # far past any max_s; keeps 2 ** n a small float
State = tuple[int, float]  # wrong answers so far, end of the cool-down (0: none)


@dataclass(frozen=True, slots=True)
class Lockout:
    """`free` wrong answers, then `first_s` seconds of cool-down, doubling up to `max_s`."""

    free: int
    first_s: float
    max_s: float = 86400.0
    memory_s: float = 86400.0

    @classmethod
    def of(cls, limit: Limit) -> Lockout:
        """A setting written like a limit: '5/1m' = 5 wrong answers, then 1 minute, doubling."""
        return cls(limit.count, limit.period_s)

    def cool_down_s(self, wrong: int) -> float:
        if wrong < self.free:
            return 0.0
        return min(self.max_s, self.first_s * 2.0 ** min(wrong - self.free, MAX_DOUBLINGS))


def attempt(state: State | None, rule: Lockout, now: float) -> tuple[float, State | None]:
    """The wait (0: go ahead) and, when let through, the state with this attempt counted."""
    wrong, until = state or (0, 0.0)
    if until > now:
        return until - now, None
    wrong += 1
    cool_down = rule.cool_down_s(wrong)
    return 0.0, (wrong, now + cool_down if cool_down else 0.0)


def forget_at(state: State, rule: Lockout, now: float) -> float:
    return max(state[1], now) + rule.memory_s


class LockoutStore(Protocol):
    async def attempt(self, key: str, rule: Lockout, now: float) -> float:
        """Count one attempt unless cooling down; the seconds to wait (0: counted, go ahead)."""
        ...

    async def clear(self, key: str) -> None: ...

    async def aclose(self) -> None: ...


class StoreUnavailable(Exception):
    """The store of the lock-outs could not be asked."""


class MemoryLockouts:
    """Counts in this process: embedded mode, tests, and the fallback while Redis is down."""

    def __init__(self) -> None:
        self._states: dict[str, tuple[int, float, float]] = {}  # wrong, until, forget at

    async def attempt(self, key: str, rule: Lockout, now: float) -> float:
        held = self._states.get(key)
        state = None if held is None or held[2] <= now else (held[0], held[1])
        wait, counted = attempt(state, rule, now)
        if counted is not None:
            if len(self._states) > MAX_MEMORY_KEYS:
                self._states = {k: s for k, s in self._states.items() if s[2] > now}
            self._states[key] = (*counted, forget_at(counted, rule, now))
        return wait

    async def clear(self, key: str) -> None:
        self._states.pop(key, None)

    async def aclose(self) -> None:
        self._states.clear()


# KEYS: the subject. ARGV: now, free, first_s, max_s, memory_s, max doublings. `attempt`
# above written again; the wait travels as text (Lua numbers leave a script as integers).
# The hash keeps when it is forgotten by the caller's clock, as the memory store does; the
# key's own expiry only clears it away (Redis's clock).
LOCKOUT_LUA = """
local now, free, first = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local max_s, memory, doublings = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local held = redis.call('HMGET', KEYS[1], 'wrong', 'until', 'forget')
local wrong, untl = tonumber(held[1]) or 0, tonumber(held[2]) or 0
if (tonumber(held[3]) or 0) <= now then wrong, untl = 0, 0 end
if untl > now then return string.format('%.6f', untl - now) end
wrong = wrong + 1
untl = 0
if wrong >= free then
  untl = now + math.min(max_s, first * 2 ^ math.min(wrong - free, doublings))
end
local forget = math.max(untl, now) + memory
redis.call('HSET', KEYS[1], 'wrong', tostring(wrong), 'until', string.format('%.6f', untl),
           'forget', string.format('%.6f', forget))
redis.call('PEXPIRE', KEYS[1], math.ceil((forget - now) * 1000))
return '0'
"""


class RedisLockouts:
    """Counts in Redis, shared by every process and host; keys under `prefix`."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(LOCKOUT_LUA)

    @classmethod
    def from_url(cls, url: str, prefix: str) -> RedisLockouts:
        return cls(request_path_client(url, connections=8), prefix)  # lookups are rare

    async def attempt(self, key: str, rule: Lockout, now: float) -> float:
        args = [now, rule.free, rule.first_s, rule.max_s, rule.memory_s, MAX_DOUBLINGS]
        try:
            wait = await self._script(keys=[self.prefix + key], args=args)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
        return float(wait)

    async def clear(self, key: str) -> None:
        try:
            await self.client.delete(self.prefix + key)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def aclose(self) -> None:
        await close_client(self.client)


class Lockouts:
    """One lock-out rule over subjects, in a store with this process's memory as fallback."""

    def __init__(
        self, store: LockoutStore, rule: Lockout | None, clock: Clock, secret_key: str, name: str
    ) -> None:
        self.store = store
        self.rule = rule  # None: switched off
        self.clock = clock
        self.name = name
        self._secret = hashlib.sha256(secret_key.encode()).digest()
        memory = isinstance(store, MemoryLockouts)
        self._fallback: LockoutStore = store if memory else MemoryLockouts()
        self._paused_until = 0.0

    def _key(self, subject: str) -> str:
        digest = hashlib.blake2b(subject.encode(), key=self._secret, digest_size=12).hexdigest()
        return f"{self.name}:{digest}"

    async def attempt(self, subject: str) -> float:
        """Seconds `subject` must wait; 0: go ahead, and report a right answer with `clear`."""
        if self.rule is None:
            return 0.0
        now = self.clock.now().timestamp()
        key = self._key(subject)
        if now >= self._paused_until:
            try:
                return await self.store.attempt(key, self.rule, now)
            except StoreUnavailable as exc:
                self._unavailable(now, exc)
        return await self._fallback.attempt(key, self.rule, now)

    async def clear(self, subject: str) -> None:
        """A right answer: the subject's wrong answers are forgotten."""
        if self.rule is None:
            return
        key = self._key(subject)
        await self._fallback.clear(key)
        now = self.clock.now().timestamp()
        if self.store is not self._fallback and now >= self._paused_until:
            try:
                await self.store.clear(key)
            except StoreUnavailable as exc:
                self._unavailable(now, exc)

    def _unavailable(self, now: float, exc: Exception) -> None:
        self._paused_until = now + STORE_PAUSE_S
        log.warning("lockout_store_unavailable", error=str(exc), lockout=self.name)

    async def aclose(self) -> None:
        await self.store.aclose()
        if self._fallback is not self.store:
            await self._fallback.aclose()


def store_for(settings: Settings, prefix: str) -> LockoutStore:
    """Redis when `redis_url` is set (counts shared by every process), else this process."""
    if settings.redis_url:
        return RedisLockouts.from_url(settings.redis_url, prefix)
    return MemoryLockouts()


def lockouts_for(settings: Settings, clock: Clock, name: str, prefix: str) -> Lockouts:
    """The lock-out `rate_<name>_per_code` names, in Redis when `redis_url` is set."""
    limit = parse_limit(getattr(settings, f"rate_{name}_per_code"))
    store = store_for(settings, prefix)
    rule = None if limit is None else Lockout.of(limit)
    return Lockouts(store, rule, clock, settings.secret_key, name)
