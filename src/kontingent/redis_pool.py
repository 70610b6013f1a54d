"""The Redis client of a request-path adapter (rate limits, waiting room).

One policy for both, because the rush benchmark showed what goes wrong otherwise:
- A blocking pool: a burst beyond `connections` calls in flight waits up to 2 s for a
  connection instead of failing, which would refuse PINs or pause the room for no fault of
  Redis.
- A Redis that is down refuses the connection at once (0.5 s to connect at most); the 2 s
  read timeout is for a hung one only. Shorter read timeouts (0.5-1 s) fired when the worker
  itself was busy, and every timeout dropped a connection that had to be made again.
- No CLIENT SETINFO on connect: redis-py looks its own version up for every new connection.
What a failed call means (fail closed or open) is each adapter's own policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import structlog
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisError

log = structlog.get_logger(__name__)


def request_path_client(url: str, connections: int) -> aioredis.Redis:
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=connections,
        timeout=2.0,
        socket_connect_timeout=0.5,
        socket_timeout=2.0,
        driver_info=None,
    )
    return aioredis.Redis(connection_pool=pool)


async def close_client(client: aioredis.Redis) -> None:
    """Close the client and every connection of its pool, at shutdown.

    redis-py gives each socket 0.5 s (the connect timeout) to finish closing and raises if one
    is slower, which happened when a full pool closed on a busy machine. The socket is closed
    by then either way, so a slow close is logged and not raised: it must not stop the rest of
    a shutdown.
    """
    try:
        await client.aclose()
        await client.connection_pool.disconnect()
    except (RedisError, OSError) as exc:
        log.warning("redis_close_slow", error=type(exc).__name__)


MAX_BATCH = 256  # script calls per pipeline; more wait for the next one


class ScriptBatcher:
    """Lua script calls of concurrent requests sent to Redis together.

    Calls made while the event loop runs one round of ready tasks are sent as one pipeline
    (not a transaction: each script stays atomic on its own, and none waits for another's
    outcome) over one connection, at the end of that round. With 32 calls in flight this cut
    the client's CPU per call from 0.066-0.082 to 0.018-0.020 ms here (`bench/clients.py
    redis`): redis-py's cost is per round trip (pool checkout, socket write, timeouts), not
    per command.

    Each caller gets its own script's answer or error, as from `await script(keys, args)`: a
    Redis error answer raises for that call only; a connection failure raises for every call
    of the pipeline. Scripts Redis does not know (after a restart or SCRIPT FLUSH) are loaded
    and their calls sent once more.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        self.client = client
        self._calls: list[_Call] = []
        self._flush_scheduled = False
        self._sending: set[asyncio.Task[None]] = set()
        self.pipelines = 0  # sent so far (tests)

    async def run(self, script: AsyncScript, keys: Sequence[Any], args: Sequence[Any]) -> Any:
        loop = asyncio.get_running_loop()
        call = _Call(script, (len(keys), *keys, *args), loop.create_future())
        self._calls.append(call)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            loop.call_soon(self._flush)
        return await call.answer

    def _flush(self) -> None:
        self._flush_scheduled = False
        # A caller cancelled before its call left (its client went away) does not run it.
        self._calls = [call for call in self._calls if not call.answer.done()]
        while self._calls:
            batch, self._calls = self._calls[:MAX_BATCH], self._calls[MAX_BATCH:]
            task = asyncio.ensure_future(self._send(batch))
            self._sending.add(task)  # held until done: the loop keeps only weak references
            task.add_done_callback(self._sending.discard)

    async def _send(self, batch: list[_Call]) -> None:
        try:
            answers = await self._pipeline(batch)
            unknown = [i for i, a in enumerate(answers) if isinstance(a, NoScriptError)]
            if unknown:
                for script in {id(batch[i].script): batch[i].script for i in unknown}.values():
                    await self.client.script_load(script.script)
                again = await self._pipeline([batch[i] for i in unknown])
                for i, answer in zip(unknown, again, strict=True):
                    answers[i] = answer
        except Exception as exc:  # every call of the pipeline shares its failure
            for call in batch:
                if not call.answer.done():
                    call.answer.set_exception(exc)
            return
        except BaseException:  # cancelled (shutdown): so are the calls waiting on it
            for call in batch:
                call.answer.cancel()
            raise
        for call, answer in zip(batch, answers, strict=True):
            if call.answer.done():  # its caller was cancelled meanwhile
                continue
            if isinstance(answer, Exception):
                call.answer.set_exception(answer)
            else:
                call.answer.set_result(answer)

    async def _pipeline(self, batch: Sequence[_Call]) -> list[Any]:
        self.pipelines += 1
        pipe = self.client.pipeline(transaction=False)
        for call in batch:
            pipe.evalsha(call.script.sha, *call.args)
        return list(await pipe.execute(raise_on_error=False))

    async def aclose(self) -> None:
        """Wait for the pipelines in flight (their callers get their answers)."""
        if self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)


@dataclass(slots=True)
class _Call:
    script: AsyncScript
    args: tuple[Any, ...]  # number of keys, keys, arguments: as EVALSHA takes them
    answer: asyncio.Future[Any]
