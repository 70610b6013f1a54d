"""The request-path Redis client: a slow socket close at shutdown is not an error; concurrent
script calls share one pipeline and each still gets its own answer or error."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import pytest
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from kontingent.redis_pool import MAX_BATCH, ScriptBatcher, close_client, request_path_client
from tests.support import REDIS_URL, delete_redis_prefix

pytestmark = pytest.mark.redis


async def test_closing_a_full_pool_whose_sockets_close_slowly_does_not_raise() -> None:
    client = request_path_client(REDIS_URL, connections=8)
    # Eight calls at once: the pool opens eight real connections.
    assert all(await asyncio.gather(*(client.ping() for _ in range(8))))
    pool = client.connection_pool
    connections = [*pool._available_connections, *pool._in_use_connections]  # type: ignore[attr-defined]
    assert len(connections) == 8 and all(c.is_connected for c in connections)
    # redis-py gives a socket its connect timeout to finish closing; with none left, every
    # close times out, as one did on a busy CI machine when a pool of 128 closed at once.
    for connection in connections:
        connection.socket_connect_timeout = 0
    await close_client(client)
    assert not any(c.is_connected for c in connections)


async def test_a_client_closed_that_way_can_still_be_used_again() -> None:
    client = request_path_client(REDIS_URL, connections=2)
    await client.ping()
    await close_client(client)
    assert await client.ping()  # the pool connects anew
    await close_client(client)


# KEYS[1] is incremented by ARGV[1]; ARGV[2] == "fail" answers with an error instead.
COUNT_LUA = """
if ARGV[2] == 'fail' then return redis.error_reply('asked to fail') end
return redis.call('INCRBY', KEYS[1], ARGV[1])
"""


@pytest.fixture
async def batcher() -> AsyncIterator[ScriptBatcher]:
    client = request_path_client(REDIS_URL, connections=4)
    made = ScriptBatcher(client)
    yield made
    await made.aclose()
    await close_client(client)


@pytest.fixture
async def key() -> AsyncIterator[str]:
    prefix = f"kt_test_batch_{secrets.token_hex(4)}:"
    yield prefix + "n"
    await delete_redis_prefix(prefix)


async def _loaded(batcher: ScriptBatcher) -> AsyncScript:
    """The script, already known to Redis (a first call would load it: one more pipeline)."""
    script = batcher.client.register_script(COUNT_LUA)
    await batcher.client.script_load(COUNT_LUA)
    return script


async def test_concurrent_script_calls_go_in_one_pipeline_each_with_its_own_answer(
    batcher: ScriptBatcher, key: str
) -> None:
    script = await _loaded(batcher)
    answers = await asyncio.gather(*(batcher.run(script, [key], [i, "ok"]) for i in range(1, 101)))
    assert batcher.pipelines == 1
    assert sorted(answers) == sorted(sum(range(1, i + 1)) for i in range(1, 101))  # in order
    assert answers == [sum(range(1, i + 1)) for i in range(1, 101)]
    assert int(await batcher.client.get(key)) == 5050


async def test_more_calls_than_a_pipeline_holds_go_in_several(
    batcher: ScriptBatcher, key: str
) -> None:
    script = await _loaded(batcher)
    calls = 2 * MAX_BATCH + 1
    answers = await asyncio.gather(*(batcher.run(script, [key], [1, "ok"]) for _ in range(calls)))
    assert sorted(answers) == list(range(1, calls + 1))
    assert batcher.pipelines == 3


async def test_an_error_answer_fails_only_its_own_call(batcher: ScriptBatcher, key: str) -> None:
    script = await _loaded(batcher)
    results = await asyncio.gather(
        batcher.run(script, [key], [1, "ok"]),
        batcher.run(script, [key], [1, "fail"]),
        batcher.run(script, [key], [1, "ok"]),
        return_exceptions=True,
    )
    assert results[0] == 1 and results[2] == 2
    assert isinstance(results[1], ResponseError) and "asked to fail" in str(results[1])
    assert batcher.pipelines == 1


async def test_scripts_redis_forgot_are_loaded_again(batcher: ScriptBatcher, key: str) -> None:
    script = await _loaded(batcher)
    assert await batcher.run(script, [key], [1, "ok"]) == 1
    await batcher.client.script_flush()  # as after a Redis restart
    answers = await asyncio.gather(*(batcher.run(script, [key], [1, "ok"]) for _ in range(5)))
    assert sorted(answers) == [2, 3, 4, 5, 6]
    assert batcher.pipelines == 3  # the first call; the five refused, then sent again


async def test_a_call_cancelled_before_it_left_is_not_sent(
    batcher: ScriptBatcher, key: str
) -> None:
    script = await _loaded(batcher)
    calls = [asyncio.ensure_future(batcher.run(script, [key], [1, "ok"])) for _ in range(3)]
    await asyncio.sleep(0)  # all three have queued their call; the pipeline leaves after this
    calls[1].cancel()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert sorted(results[::2]) == [1, 2]  # type: ignore[type-var]
    assert int(await batcher.client.get(key)) == 2  # the cancelled one's script never ran


async def test_a_cancelled_caller_leaves_the_others_their_answers(
    batcher: ScriptBatcher, key: str
) -> None:
    script = await _loaded(batcher)
    calls = [asyncio.ensure_future(batcher.run(script, [key], [1, "ok"])) for _ in range(3)]
    for _ in range(10):  # until the pipeline has left with all three
        await asyncio.sleep(0)
        if batcher.pipelines:
            break
    assert batcher.pipelines == 1
    calls[1].cancel()
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert isinstance(results[1], asyncio.CancelledError)
    assert {results[0], results[2]} <= {1, 2, 3}
    assert int(await batcher.client.get(key)) == 3  # the script of the cancelled one ran too


async def test_with_redis_unreachable_every_call_of_the_pipeline_fails() -> None:
    client = request_path_client("redis://127.0.0.1:1/0", connections=2)  # nothing listens
    dead = ScriptBatcher(client)
    script = client.register_script(COUNT_LUA)
    results = await asyncio.gather(
        *(dead.run(script, ["k"], [1, "ok"]) for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(r, RedisConnectionError) for r in results)
    await dead.aclose()
    await close_client(client)
