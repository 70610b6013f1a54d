"""The queue in Redis, shared by every process and host (production mode).

Invariants kept here:
- Joins that arrive while one script is on its way go together in the next (at most
  MAX_JOIN_BATCH), in the order they came: under a rush one round trip serves many.
- Each call is one Lua script: one round trip, atomic across processes and hosts. The
  scripts run the rules of model.py and the steps of MemoryWaitingRoom, written again;
  the behaviour suite runs the same scenarios against both.
- Time comes from the caller (`now` in the arguments), never from Redis, so tests drive a
  real Redis with a fixed clock and every process agrees on one timeline.
- Keys live under one prefix and are named by the script from it (one Redis, not a cluster):
  `q` waiting (score order), `adm` admitted (score = deadline), `gone` expired, `st` the
  bucket, counters, `floor` and `top` (store.py: the bar for rejoining), `ad`/`done`/`att`/
  `ovl` per-second counts, `cfg` the operator's settings, `sp:<ticket>` spent tickets.
- `st.floor` is written only by RESTORE_LUA: a store without it holds no room (new, or come
  back empty after a restart), and the other scripts answer EMPTY without writing anything.
- `sync` samples every k-th waiting ticket with one ZRANGE each (at most FRONT_SAMPLES of
  O(log n) reads), inside the same script, so the samples match the counts it returns.
- Any Redis or socket error becomes `StoreUnavailable`; timeouts are short so a sick Redis
  costs a moment, and the service fails closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from kontingent.redis_pool import ScriptBatcher, close_client, request_path_client
from kontingent.waiting_room.model import (
    AUTO_WINDOW_S,
    BURST_S,
    FRONT_SAMPLES,
    KEEP_S,
    OVERLOAD_WINDOW_S,
    WINDOW_S,
    RoomConfig,
)
from kontingent.waiting_room.store import (
    EXPIRED_KEEP_S,
    MAX_PER_STEP,
    Handover,
    Restore,
    Shared,
    Status,
    Step,
    StoreEmpty,
    StoreUnavailable,
    TicketState,
    decode_config,
    encode_config,
    encode_stored,
)

MAX_JOIN_BATCH = 256
EMPTY = b"empty"  # a script's answer when the store holds no room (StoreEmpty)

# ARGV: 1 prefix, 2 now, 3 admitting (1/0), 4 rate, 5 ttl, 6 opens_at or '', then per script.
_COMMON = f"""
local P = ARGV[1]
local now = tonumber(ARGV[2])
local admitting = ARGV[3] == '1'
local rate = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local opens = nil
if ARGV[6] ~= '' then opens = tonumber(ARGV[6]) end
local q, adm, gone, st = P .. 'q', P .. 'adm', P .. 'gone', P .. 'st'
local MAX = {MAX_PER_STEP}

local function num(v, default)
  if v then return tonumber(v) end
  return default
end

local function ready()
  return redis.call('HEXISTS', st, 'floor') == 1
end

local function bar()
  local s = redis.call('HMGET', st, 'floor', 'top')
  return math.max(num(s[1], -math.huge), num(s[2], -math.huge))
end

local function advance()
  local credit = num(redis.call('HGET', st, 'credit'), 0)
  local at = num(redis.call('HGET', st, 'at'), now)
  local due = redis.call('ZRANGEBYSCORE', adm, '-inf', now, 'LIMIT', 0, MAX)
  local recycled = 0
  for _, t in ipairs(due) do
    redis.call('ZREM', adm, t)
    redis.call('ZADD', gone, now, t)
    if redis.call('EXISTS', P .. 'sp:' .. t) == 0 then recycled = recycled + 1 end
  end
  if #due > 0 then
    redis.call('HINCRBY', st, 'expired', #due)
    redis.call('HINCRBY', st, 'recycled', recycled)
    credit = credit + recycled
  end
  if not admitting then
    redis.call('HSET', st, 'credit', string.format('%.17g', credit),
               'at', string.format('%.17g', now))
    return
  end
  local start = at
  if opens and opens > start then start = opens end
  local waiting = redis.call('ZCARD', q)
  if now > start then credit = credit + (now - start) * rate end
  local cap = math.max(1, rate)
  if waiting == 0 then credit = math.min(credit, cap)
  else credit = math.min(credit, math.max(1, rate * {BURST_S})) end
  local n = math.min(math.floor(credit + 1e-9), waiting, MAX)
  if n > 0 then
    local popped = redis.call('ZPOPMIN', q, n)
    local args = {{}}
    for i = 1, #popped, 2 do
      args[#args + 1] = string.format('%.17g', now + ttl)
      args[#args + 1] = popped[i]
    end
    redis.call('ZADD', adm, unpack(args))
    local last = tonumber(popped[#popped])
    if last > num(redis.call('HGET', st, 'top'), -math.huge) then
      redis.call('HSET', st, 'top', string.format('%.17g', last))
    end
    redis.call('HINCRBY', st, 'served', n)
    redis.call('HINCRBY', P .. 'ad', math.floor(now), n)
  end
  credit = credit - n
  if waiting - n == 0 then credit = math.min(credit, cap) end
  redis.call('HSET', st, 'credit', string.format('%.17g', credit),
             'at', string.format('%.17g', math.max(now, start)))
end

local function state(t)
  local served = num(redis.call('HGET', st, 'served'), 0)
  local waiting = redis.call('ZCARD', q)
  local rank = redis.call('ZRANK', q, t)
  if rank then return {{'waiting', rank, '', served, waiting}} end
  local deadline = redis.call('ZSCORE', adm, t)
  if deadline then return {{'admitted', -1, deadline, served, waiting}} end
  if redis.call('ZSCORE', gone, t) then return {{'expired', -1, '', served, waiting}} end
  return {{'unknown', -1, '', served, waiting}}
end

local function window(h, from, to)
  local fields = {{}}
  for s = from, to do fields[#fields + 1] = s end
  return redis.call('HMGET', h, unpack(fields))
end
"""

# ARGV 7, 8, ...: ticket, score of each join, in the order they came.
JOIN_MANY_LUA = (
    _COMMON
    + """
if not ready() then return 'empty' end
for i = 7, #ARGV, 2 do redis.call('ZADD', q, 'NX', ARGV[i + 1], ARGV[i]) end
advance()
local out = {}
for i = 7, #ARGV, 2 do out[#out + 1] = state(ARGV[i]) end
return out
"""
)

# ARGV 7: ticket, 8: the score the genuine ticket carries, or ''.
POLL_LUA = (
    _COMMON
    + """
if not ready() then return 'empty' end
local t = ARGV[7]
local limit = bar()
if now < num(redis.call('HGET', st, 'rejoin_until'), 0) then  -- see store.Restore
  limit = num(redis.call('HGET', st, 'floor'), -math.huge)
end
if ARGV[8] ~= '' and tonumber(ARGV[8]) > limit and not redis.call('ZSCORE', q, t)
   and not redis.call('ZSCORE', adm, t) and not redis.call('ZSCORE', gone, t) then
  redis.call('ZADD', q, ARGV[8], t)  -- lost with the store: back at its old place
end
advance()
return state(t)
"""
)

# ARGV 7: attempts, 8: bookings, 9: threshold, 10: auto (1/0), 11: overloads.
SYNC_LUA = (
    _COMMON
    + f"""
if not ready() then return 'empty' end
local sec = math.floor(now)
local att, done, ad, ovl = P .. 'att', P .. 'done', P .. 'ad', P .. 'ovl'
if tonumber(ARGV[7]) > 0 then redis.call('HINCRBY', att, sec, ARGV[7]) end
if tonumber(ARGV[8]) > 0 then redis.call('HINCRBY', done, sec, ARGV[8]) end
if tonumber(ARGV[11]) > 0 then redis.call('HINCRBY', ovl, sec, ARGV[11]) end
for _, h in ipairs({{att, done, ad, ovl}}) do
  for _, f in ipairs(redis.call('HKEYS', h)) do
    if tonumber(f) < sec - {KEEP_S} then redis.call('HDEL', h, f) end
  end
end
redis.call('ZREMRANGEBYSCORE', gone, '-inf', now - {EXPIRED_KEEP_S})
local on = redis.call('HGET', st, 'auto_on') == '1'
if ARGV[10] == '1' then
  local load = 0
  for _, v in ipairs(window(att, sec - {AUTO_WINDOW_S}, sec - 1)) do load = load + num(v, 0) end
  load = load / {AUTO_WINDOW_S}
  local threshold = tonumber(ARGV[9])
  local new_on
  if on then
    local held = now < num(redis.call('HGET', st, 'auto_hold'), 0)
    new_on = held or redis.call('ZCARD', q) > 0 or load > threshold / 2
  else
    new_on = load > threshold
  end
  if new_on and not on then redis.call('HSET', st, 'auto_since', ARGV[2]) end
  redis.call('HSET', st, 'auto_on', new_on and '1' or '0')
  on = new_on
end
advance()
local bookings = 0
for _, v in ipairs(window(done, sec - {WINDOW_S}, sec - 1)) do bookings = bookings + num(v, 0) end
local counts = {{}}
for _, v in ipairs(window(ad, sec - {WINDOW_S}, sec - 1)) do counts[#counts + 1] = num(v, 0) end
local quiet = -1
local recent = window(ovl, sec - {OVERLOAD_WINDOW_S} + 1, sec)
for i, v in ipairs(recent) do
  if num(v, 0) > 0 then quiet = #recent - i end
end
local s = redis.call('HMGET', st, 'auto_since', 'served', 'expired', 'recycled')
local waiting = redis.call('ZCARD', q)
local every = math.max(1, math.ceil(waiting / {FRONT_SAMPLES}))
local front = {{}}
if every == 1 then
  local all = redis.call('ZRANGE', q, 0, -1, 'WITHSCORES')
  for i = 2, #all, 2 do front[#front + 1] = all[i] end
else
  for r = 0, waiting - 1, every do
    front[#front + 1] = redis.call('ZRANGE', q, r, r, 'WITHSCORES')[2]
  end
end
return {{redis.call('HGETALL', P .. 'cfg'), on and 1 or 0, s[1] or '', counts, bookings,
        waiting, num(s[2], 0), num(s[3], 0), num(s[4], 0), front, every, quiet,
        string.format('%.17g', bar())}}
"""
)

# ARGV: 1 prefix, 2 floor, 3 served, 4 auto on (1/0), 5 auto since, 6 hold until, 7 rejoin
# until, then the operator's settings as field, value, ... Each part only where nothing is
# stored yet.
RESTORE_LUA = """
local st, cfg = ARGV[1] .. 'st', ARGV[1] .. 'cfg'
if redis.call('HEXISTS', st, 'floor') == 1 then return 0 end
redis.call('HSET', st, 'floor', ARGV[2], 'auto_hold', ARGV[6], 'rejoin_until', ARGV[7])
redis.call('HSETNX', st, 'served', ARGV[3])
if ARGV[4] == '1' and redis.call('HGET', st, 'auto_on') ~= '1' then
  redis.call('HSET', st, 'auto_on', '1', 'auto_since', ARGV[5])
end
if redis.call('EXISTS', cfg) == 0 then redis.call('HSET', cfg, unpack(ARGV, 8)) end
return 1
"""

# KEYS 1: the spent key. ARGV 1: milliseconds to keep it.
MARK_SPENT_LUA = "return redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _ticket_state(raw: list[Any]) -> TicketState:
    status: Status = _text(raw[0])  # type: ignore[assignment]
    rank = int(raw[1])
    deadline = _text(raw[2])
    return TicketState(
        status,
        rank if rank >= 0 else None,
        float(deadline) if deadline else None,
        int(raw[3]),
        int(raw[4]),
    )


Join = tuple[str, float, Step, "asyncio.Future[TicketState]"]


class RedisWaitingRoom:
    def __init__(self, client: aioredis.Redis, prefix: str = "kontingent:wr:") -> None:
        self.client = client
        self.prefix = prefix
        self._joins: list[Join] = []  # waiting for the next script
        self._joining: asyncio.Task[None] | None = None
        self._join_many = client.register_script(JOIN_MANY_LUA)
        self._poll = client.register_script(POLL_LUA)
        self._sync = client.register_script(SYNC_LUA)
        self._restore = client.register_script(RESTORE_LUA)
        self._mark_spent = client.register_script(MARK_SPENT_LUA)
        self._batcher = ScriptBatcher(client)  # concurrent requests' scripts: one round trip

    @classmethod
    def from_url(cls, url: str, prefix: str = "kontingent:wr:") -> RedisWaitingRoom:
        # 128 connections: polls come in bursts when a page refresh wave arrives.
        return cls(request_path_client(url, connections=128), prefix)

    def _args(self, step: Step) -> list[Any]:
        opens = "" if step.opens_at is None else repr(step.opens_at)
        admitting = "1" if step.admitting else "0"
        return [self.prefix, repr(step.now), admitting, repr(step.rate), repr(step.ttl_s), opens]

    async def _call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        try:
            answer = await self._batcher.run(script, keys, args)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc
        if answer in (EMPTY, "empty"):
            raise StoreEmpty("the queue in Redis holds no room")
        return answer

    async def join(self, ticket: str, score: float, step: Step) -> TicketState:
        """Joins that arrive while a script is on its way go together in the next one (one
        round trip and one admission step for all of them, in the order they came)."""
        joined: asyncio.Future[TicketState] = asyncio.get_running_loop().create_future()
        self._joins.append((ticket, score, step, joined))
        if self._joining is None:
            self._joining = asyncio.create_task(self._send_joins())
        return await joined

    async def _send_joins(self) -> None:
        try:
            while self._joins:
                batch = self._joins[:MAX_JOIN_BATCH]
                del self._joins[:MAX_JOIN_BATCH]
                args = self._args(max((step for _, _, step, _ in batch), key=lambda s: s.now))
                for ticket, score, _, _ in batch:
                    args += [ticket, repr(score)]
                try:
                    raw = await self._call(self._join_many, [], args)
                except StoreUnavailable as exc:
                    for *_, joined in batch:
                        if not joined.done():
                            joined.set_exception(type(exc)(*exc.args))
                    continue
                for (*_, joined), state in zip(batch, raw, strict=True):
                    if not joined.done():  # its caller may have gone (a dropped request)
                        joined.set_result(_ticket_state(state))
        finally:
            self._joining = None

    async def poll(self, ticket: str, score: float | None, step: Step) -> TicketState:
        args = [*self._args(step), ticket, "" if score is None else repr(score)]
        return _ticket_state(await self._call(self._poll, [], args))

    async def sync(self, step: Step, counts: Handover, threshold: float, auto: bool) -> Shared:
        auto_flag = "1" if auto else "0"
        args = [*self._args(step), counts.attempts, counts.bookings, repr(threshold), auto_flag]
        args.append(counts.overloads)
        raw = await self._call(self._sync, [], args)
        flat = [_text(v) for v in raw[0]]
        since = _text(raw[2])
        return Shared(
            config=decode_config(dict(zip(flat[::2], flat[1::2], strict=True))),
            auto_on=int(raw[1]) == 1,
            auto_since=float(since) if since else None,
            admit_counts=[int(c) for c in raw[3]],
            bookings_in_window=int(raw[4]),
            waiting=int(raw[5]),
            served=int(raw[6]),
            expired=int(raw[7]),
            recycled=int(raw[8]),
            front=tuple(float(v) for v in raw[9]),
            front_every=int(raw[10]),
            overload_quiet_s=None if int(raw[11]) < 0 else int(raw[11]),
            bar=float(raw[12]),
        )

    async def restore(self, restore: Restore) -> bool:
        since = "" if restore.auto_since is None else repr(restore.auto_since)
        args = [self.prefix, repr(restore.floor), restore.served, "1" if restore.auto_on else "0"]
        args += [since, repr(restore.hold_until), repr(restore.rejoin_until)]
        for field, value in encode_stored(restore.config).items():
            args += [field, value]
        return int(await self._call(self._restore, [], args)) == 1

    async def mark_spent(self, ticket: str, now: float, keep_s: float) -> None:
        keep_ms = max(1, math.ceil(keep_s * 1000))
        await self._call(self._mark_spent, [self.prefix + "sp:" + ticket], [keep_ms])

    async def save_config(self, config: RoomConfig) -> None:
        try:
            fields: dict[Any, Any] = dict(encode_config(config))
            await self.client.hset(self.prefix + "cfg", mapping=fields)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    async def aclose(self) -> None:
        if self._joining is not None:
            self._joining.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._joining
        for *_, joined in self._joins:
            joined.cancel()
        await self._batcher.aclose()
        await close_client(self.client)
