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

import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

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
