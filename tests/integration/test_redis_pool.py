"""The request-path Redis client: a slow socket close at shutdown is not an error."""

from __future__ import annotations

import asyncio

import pytest

from kontingent.redis_pool import close_client, request_path_client
from tests.support import REDIS_URL

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
