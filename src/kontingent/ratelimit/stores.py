"""Where the limits' counters live: in this process (embedded) or in Redis (shared by all).

Invariants kept here:
- One check is one atomic step: in memory one synchronous function (no await inside, so no
  other request interleaves), in Redis one Lua script, one round trip, whatever the number of
  limits checked together.
- Both adapters answer the same question with the same arithmetic (`model.admit`); the Lua
  script is that function written again, and the tests run one scenario against both.
- A Redis that cannot be reached raises `LimiterUnavailable`; what that means (refuse or let
  through) is the caller's policy, decided per limit, not the store's.
- Counters expire by themselves once they are back at rest, so idle subjects cost nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from kontingent.ratelimit.model import Limit, Verdict, admit
from kontingent.redis_pool import ScriptBatcher, close_client, request_path_client

MAX_MEMORY_KEYS = 200_000  # then keys at rest are swept out


class LimiterUnavailable(Exception):
    """The store of the counters could not be asked."""


class RateLimiter(Protocol):
    async def check(self, keys: Sequence[str], limits: Sequence[Limit], now: float) -> Verdict:
        """Count one request against each (key, limit) if all allow it; `now` in seconds."""
        ...

    async def aclose(self) -> None: ...


class MemoryRateLimiter:
    """Counters in this process: right for one process (embedded mode) and for tests."""

    def __init__(self) -> None:
        self._tats: dict[str, float] = {}

    async def check(self, keys: Sequence[str], limits: Sequence[Limit], now: float) -> Verdict:
        verdict, tats = admit([self._tats.get(k) for k in keys], limits, now)
        if verdict.allowed:
            if len(self._tats) > MAX_MEMORY_KEYS:
                self._sweep(now)
            self._tats.update(zip(keys, tats, strict=True))
        return verdict

    def _sweep(self, now: float) -> None:
        self._tats = {k: tat for k, tat in self._tats.items() if tat > now}

    async def aclose(self) -> None:
        self._tats.clear()


# KEYS: one per limit. ARGV: now, then per limit its interval and span (seconds).
# Returns {wait as text, index of the refusing limit (0: none)}: Lua numbers become integers
# on the way out of a script, so the wait travels as text.
GCRA_LUA = """
local now = tonumber(ARGV[1])
local wait, refused = 0, 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i])
  local span = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local next_tat = tat + interval
  local early = next_tat - span - now
  if early > wait + 1e-9 then wait, refused = early, i end
  tats[i] = next_tat
end
if refused > 0 then return {string.format('%.6f', wait), refused} end
for i, key in ipairs(KEYS) do
  local ms = math.ceil((tats[i] - now) * 1000)
  redis.call('SET', key, string.format('%.6f', tats[i]), 'PX', math.max(ms, 1))
end
return {'0', 0}
"""


class RedisRateLimiter:
    """Counters in Redis, shared by every process and host; keys under `prefix`.

    Timeouts are short: a request should not hang on a sick Redis, the caller's failure
    policy answers instead.
    """

    def __init__(self, client: aioredis.Redis, prefix: str = "kontingent:rate:") -> None:
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(GCRA_LUA)
        self._batcher = ScriptBatcher(client)  # concurrent requests' checks: one round trip

    @classmethod
    def from_url(cls, url: str, prefix: str = "kontingent:rate:") -> RedisRateLimiter:
        return cls(request_path_client(url, connections=64), prefix)

    async def check(self, keys: Sequence[str], limits: Sequence[Limit], now: float) -> Verdict:
        args: list[float] = [now]
        for limit in limits:
            args += [limit.interval_s, limit.span_s]
        try:
            keyed = [self.prefix + k for k in keys]
            wait, refused = await self._batcher.run(self._script, keyed, args)
        except (RedisError, OSError) as exc:
            raise LimiterUnavailable(type(exc).__name__) from exc
        index = int(refused)
        if index == 0:
            return Verdict(0.0)
        return Verdict(float(wait), index - 1)

    async def aclose(self) -> None:
        await self._batcher.aclose()
        await close_client(self.client)
