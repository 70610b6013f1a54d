"""Keeping the availability caches of several processes in step through Redis pub/sub.

Each process announces the slot changes it makes (a booking's seats, a cancellation, a
rebooking, a release) and an admin's change of the catalogue (vaccines, cohorts, the booking
window) on one channel, and one listener task per process applies what the
others announced to its own cache. With no Redis there is one process and nothing to do,
except for the catalogue, whose changes every process also finds within a second through
its version in the database (catalogue_version.py); a message carries that version, so a
process that heard the change does not read the catalogue again when its check finds it.

Invariants kept here:
- A booking never waits for Redis: announcing only queues the change; a publisher task sends
  what queued up meanwhile as one message, so a rush costs far fewer messages than bookings.
- A process skips its own messages (it applied them already), by the origin id in each.
- The cache is only a view: a missed or late message costs a stale offer (a 409 with fresh
  offers at booking time, which decides against the database), never an overbooking.
- Every process that changes slots runs publisher and listener (`running`): the web
  processes and the separate `kontingent worker`, whose scheduler releases phone seats
  (inventory/phone_share.py); at a clean stop the message being sent is finished and what
  is still queued is sent, within STOP_WAIT_S.
- While the listener is not subscribed, `Inventory.invalidation_connected` is False, a log
  line says so and only the TTL bounds staleness; on every (re)subscription the cache is
  cleared, because changes announced in the gap were missed. Reconnecting backs off
  exponentially with jitter, so a Redis restart is not met by every process at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections.abc import AsyncIterator

import msgspec
import redis.asyncio as aioredis
import structlog
from redis.exceptions import RedisError

from kontingent.inventory.service import Inventory, SlotChange
from kontingent.redis_pool import close_client

log = structlog.get_logger(__name__)
CHANNEL = "kontingent:slots"
MAX_BATCH = 500  # changes per message; more wait for the next one
MAX_QUEUED = 20_000  # changes waiting for Redis; beyond, drop: the others fall back to the TTL
BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 5.0
POLL_S = 1.0  # how long one read of the subscription waits; health checks ride on it
STOP_WAIT_S = 1.0  # at shutdown, how long the publisher is given to stop


class Message(msgspec.Struct, array_like=True):
    """One message on the channel: who sent it and its changes, as
    (centre id, vaccine code, {slot id: seats taken} or None), whether the reference data
    changed and the catalogue's version that change made, when known (last, with defaults:
    a message of an older process still decodes)."""

    origin: str
    changes: list[tuple[int, str, dict[int, int] | None]]
    catalogue: bool = False
    version: int | None = None


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Message).decode


class RedisInvalidation:
    """The cross-process half of the availability cache: publisher and listener of one
    process. `run()` is the task the application's lifespan starts."""

    def __init__(
        self,
        client: aioredis.Redis,
        inventory: Inventory,
        channel: str = CHANNEL,
        origin: str | None = None,
    ) -> None:
        self.client = client
        self.inventory = inventory
        self.channel = channel
        self.origin = origin or secrets.token_hex(8)
        self.subscriptions = 0  # times the listener (re)subscribed
        self.echoes = 0  # own messages heard back (and skipped)
        self.published = 0
        self.dropped = 0
        self._queue: asyncio.Queue[SlotChange] = asyncio.Queue(MAX_QUEUED)
        self._sending: asyncio.Future[None] | None = None  # the publisher's send under way
        self._publish_failing = False
        self._down_logged = False
        inventory.announce = self.announce
        inventory.invalidation_enabled = True

    @classmethod
    def from_url(cls, url: str, inventory: Inventory, channel: str = CHANNEL) -> RedisInvalidation:
        origin = secrets.token_hex(8)
        client = aioredis.Redis.from_url(
            url,
            socket_connect_timeout=2.0,
            socket_timeout=5.0,
            health_check_interval=10,
            client_name=f"kontingent-invalidation-{origin}",  # findable in CLIENT LIST
        )
        return cls(client, inventory, channel, origin)

    def announce(self, change: SlotChange) -> None:
        try:
            self._queue.put_nowait(change)
        except asyncio.QueueFull:
            self.dropped += 1

    async def run(self) -> None:
        publisher = asyncio.create_task(self._publish_forever())
        try:
            await self._listen_forever()
        finally:
            # Bounded: on Python 3.11 the publisher was seen, about one shutdown in three in
            # bench/inprocess.py, cancelled yet parked on its queue for good, and awaiting it
            # held the whole lifespan shutdown.
            publisher.cancel()
            await asyncio.wait({publisher}, timeout=STOP_WAIT_S)
            if not publisher.done():
                log.warning("cache_invalidation_publisher_did_not_stop")
            self.inventory.invalidation_connected = False

    async def aclose(self) -> None:
        await close_client(self.client)

    async def flush(self, timeout_s: float = STOP_WAIT_S) -> None:
        """Let the send under way finish and send what is still queued, waiting at most
        `timeout_s` in all (a stop must not hang on Redis); what does not go is left to the
        others' TTL."""
        batch: list[SlotChange] = []
        while not self._queue.empty():
            batch.append(self._queue.get_nowait())
        sending = self._sending
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                if sending is not None and not sending.done():
                    await asyncio.shield(sending)
                if batch:
                    await self._publish(batch)

    # --- publishing ----------------------------------------------------------------------

    async def _publish_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            # Shielded: a stop cancels this loop, not a message half sent; `flush` waits
            # for it (a worker's last change was lost when the stop came mid-send).
            self._sending = asyncio.ensure_future(self._publish(batch))
            await asyncio.shield(self._sending)

    async def _publish(self, batch: list[SlotChange]) -> None:
        changes = [
            (c.centre_id, c.vaccine_code, None if c.taken is None else dict(c.taken))
            for c in batch
            if not c.catalogue
        ]
        versions = [c.version for c in batch if c.catalogue and c.version is not None]
        message = Message(
            self.origin, changes, any(c.catalogue for c in batch), max(versions, default=None)
        )
        try:
            await self.client.publish(self.channel, _encode(message))
        except (RedisError, OSError) as exc:
            self.dropped += len(batch)
            if not self._publish_failing:
                log.warning("cache_invalidation_publish_failed", error=type(exc).__name__)
            self._publish_failing = True
            return
        if self._publish_failing:
            log.info("cache_invalidation_publish_recovered")
        self._publish_failing = False
        self.published += len(batch)

    # --- listening -----------------------------------------------------------------------

    async def _listen_forever(self) -> None:
        delay = BACKOFF_FIRST_S
        while True:
            try:
                await self._listen()
            except (RedisError, OSError) as exc:
                self._disconnected(exc)
            if self.inventory.invalidation_connected:
                delay = BACKOFF_FIRST_S  # it worked for a while: start the backoff afresh
            self.inventory.invalidation_connected = False
            await asyncio.sleep(delay * (0.5 + random.random()))  # jitter
            delay = min(delay * 2, BACKOFF_MAX_S)

    async def _listen(self) -> None:
        async with self.client.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(self.channel)
            self.inventory.forget_readings()  # whatever changed before now was missed
            self.inventory.invalidation_connected = True
            self.subscriptions += 1
            self._down_logged = False
            log.info("cache_invalidation_connected", channel=self.channel)
            while True:
                message = await pubsub.get_message(timeout=POLL_S)
                if message is not None and message.get("type") == "message":
                    self._apply(message["data"])

    def _disconnected(self, exc: BaseException) -> None:
        """Log the first failure of a spell only: a Redis outage is one line, not thousands."""
        if not self._down_logged:
            log.warning(
                "cache_invalidation_disconnected",
                error=type(exc).__name__,
                fallback="availability TTL until Redis answers again",
            )
        self._down_logged = True

    def _apply(self, data: bytes) -> None:
        try:
            message = _decode(data)
        except msgspec.DecodeError:
            log.warning("cache_invalidation_bad_message", size=len(data))
            return
        if message.origin == self.origin:
            self.echoes += 1
            return
        if message.catalogue:
            self.inventory.catalogue_changed(announce=False, version=message.version)
            self.inventory.remote_changes += 1
        for centre_id, vaccine_code, taken in message.changes:
            self.inventory.apply_change(SlotChange(centre_id, vaccine_code, taken))


@contextlib.asynccontextmanager
async def running(invalidation: RedisInvalidation | None) -> AsyncIterator[None]:
    """A process's publisher and listener for as long as the block runs (nothing without
    Redis); then what is still queued is sent and the client closed."""
    if invalidation is None:
        yield
        return
    task = asyncio.create_task(invalidation.run())
    try:
        yield
    finally:
        await invalidation.flush()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await invalidation.aclose()
