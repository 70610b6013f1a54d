"""Database plumbing: the engine, one transaction per use case, and retries.

Invariants kept here:
- A write use case runs in exactly one transaction. On SQLite it starts with BEGIN IMMEDIATE,
  so writers queue on the database lock up front instead of failing on upgrade.
- A use case that hits a serialization failure, a deadlock or a busy SQLite database is run
  again from the start, a bounded number of times, so no partial work survives a retry.
- Reads on PostgreSQL run in autocommit (READ COMMITTED gives each statement its own snapshot
  either way); nothing may be written through `read()`.
- The hot statement (a booking on PostgreSQL) may bypass SQLAlchemy through `driver()`: plain
  asyncpg connections that are handed back only when they are outside any transaction, so no
  reset query is needed between uses.
- A database that cannot serve (unreachable, or a statement cut by the server-side
  `statement_timeout` or `lock_timeout` that every connection of a service carries) ends a
  use case with `DatabaseUnavailable` (503 with Retry-After), noted as an incident of
  `Database.outages` (outage.py), never with a traceback per request. Nobody waits longer
  than those timeouts for a lock, nor longer than the pool wait for a connection.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import DateTime, event
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from kontingent.errors import Overloaded
from kontingent.outage import Outages, classify

T = TypeVar("T")

_RETRYABLE_PG = {"40001", "40P01"}  # serialization_failure, deadlock_detected
# How long a request waits for a free database connection before it is answered 503 with
# Retry-After. SQLAlchemy's default is 30 s, far beyond what any client waits: under overload
# the queue then only grows, and every timeout became a 500 with a logged traceback.
POOL_WAIT_S = 5.0
# How long connecting may take (asyncpg waits 60 s by default): a database host that drops
# packets must not hold requests longer than a full pool would.
CONNECT_TIMEOUT_S = 5.0
OVERLOADED_RETRY_AFTER_S = 5
_WRITE_OPTION = "kontingent_write"
# How make_engine connected to PostgreSQL, so `Database.driver()` connects the same way.
_DRIVER_ARGS: weakref.WeakKeyDictionary[Any, tuple[str, dict[str, Any], int, float]] = (
    weakref.WeakKeyDictionary()
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored as naive UTC in both dialects and returned timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing a naive datetime: pass a timezone-aware one")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return _stored_utc(value)

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        """On SQLite the stored text straight to an aware datetime: SQLAlchemy's own parser
        (a regular expression per value) and then this decorator's step cost a third of a
        cold offers read's row handling (bench/inventory_scale.py)."""
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        return _stored_utc


def _stored_utc(value: Any) -> datetime | None:
    """A stored timestamp (naive UTC; text on SQLite) as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


def aware_utc(value: Any) -> datetime | None:
    """A timestamp read past `UtcDateTime` (an aggregate, or a row through the plain driver)
    as an aware UTC datetime: stored naive in UTC, and handed back as text by SQLite."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value  # type: ignore[no-any-return]


def is_retryable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if code in _RETRYABLE_PG:
        return True
    return "database is locked" in str(orig) or "deadlock detected" in str(orig)


def _setup_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to say.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
        ):
            cur.execute(f"PRAGMA {pragma}")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    schema: str | None = None,
    echo: bool = False,
    pool_wait_s: float = POOL_WAIT_S,
    statement_timeout_s: float = 0,
    lock_timeout_s: float = 0,
) -> AsyncEngine:
    """The engine of `url`. On PostgreSQL every connection carries the server-side timeouts
    given (0: none, the default, for migrations, seeds and tools that may run long)."""
    if url.startswith("sqlite"):
        engine = create_async_engine(
            url,
            echo=echo,
            poolclass=NullPool if ":memory:" in url else None,
            connect_args={"timeout": 10},
        )
        _setup_sqlite(engine)
        return engine
    server_settings = {"search_path": schema} if schema else {}
    server_settings |= timeouts(statement_timeout_s, lock_timeout_s)
    connect_args: dict[str, Any] = {"timeout": CONNECT_TIMEOUT_S}
    if server_settings:
        connect_args["server_settings"] = server_settings
    engine = create_async_engine(
        url,
        echo=echo,
        # A fixed set of connections and no overflow: under a rush, overflow connections are
        # opened for one request and closed at its end, and every new one costs PostgreSQL a
        # backend and the driver its prepared statements and type introspection again (a
        # quarter of a booking's CPU when measured). Requests beyond the pool wait their turn
        # in the pool's queue, which is where they should wait on 2 cores anyway.
        pool_size=pool_size,
        max_overflow=0,
        pool_timeout=pool_wait_s,
        connect_args=connect_args,
        # SQLAlchemy's rollback-on-return is a no-op without an open transaction, which every
        # use case has closed; the asyncpg pool's reset query is never involved.
        pool_reset_on_return="rollback",
    )
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "asyncpg":
        dsn = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        # Half the pool again: a booking holds its connection for one round trip, so a few
        # serve a worker's bookings, and PostgreSQL's connection limit is shared.
        driver_args = {
            "timeout": CONNECT_TIMEOUT_S,
            "server_settings": {**server_settings, **DRIVER_SERVER_SETTINGS},
        }
        _DRIVER_ARGS[engine.sync_engine] = (dsn, driver_args, max(2, pool_size // 2), pool_wait_s)
    return engine


def timeouts(statement_s: float, lock_s: float) -> dict[str, str]:
    """PostgreSQL's `statement_timeout` and `lock_timeout` (milliseconds) for the startup
    packet, so they cost no round trip; a value of 0 leaves the server's default."""
    settings = {}
    if statement_s > 0:
        settings["statement_timeout"] = str(max(1, round(statement_s * 1000)))
    if lock_s > 0:
        settings["lock_timeout"] = str(max(1, round(lock_s * 1000)))
    return settings


# The driver pool runs the booking statement only, prepared once per connection. Left to
# itself PostgreSQL plans that eight-part statement afresh on every execution (its custom
# plan always looks cheaper than the generic one), and planning was half of PostgreSQL's CPU
# per booking: 1.05-1.11 ms with the default, 0.56-0.73 ms with the plan made once, side by
# side on the bench data (bench/README.md). The generic plan is the same one: primary-key
# index scans on slots, inserts from the parameters.
DRIVER_SERVER_SETTINGS = {"plan_cache_mode": "force_generic_plan"}


@dataclass
class OverloadCount:
    """Requests this process refused as overloaded; the waiting room admits fewer people
    while any process reports some (waiting_room/model.py, `effective_rate`)."""

    total: int = 0


OVERLOADS = OverloadCount()


def overloaded() -> Overloaded:
    OVERLOADS.total += 1
    return Overloaded(
        "the service is very busy right now and nothing was done: "
        f"try again in {OVERLOADED_RETRY_AFTER_S} seconds",
        retry_after_s=OVERLOADED_RETRY_AFTER_S,
    )


class DriverPool:
    """A few plain asyncpg connections for the hot statement, opened when first needed.

    Why not SQLAlchemy: its checkout, greenlet hop and transaction bookkeeping cost several
    times the driver's own work for a one-statement use case (bench/README.md). Why not
    asyncpg's own pool: it sends a reset query on every release. Here a connection goes back
    to the idle list only when it is outside any transaction; after anything but an error
    answered by PostgreSQL (a cancelled request, a broken connection) it is closed instead,
    so no later user inherits a half-done protocol exchange.
    """

    def __init__(
        self,
        dsn: str,
        connect_args: dict[str, Any],
        size: int,
        wait_s: float = POOL_WAIT_S,
        outages: Outages | None = None,
    ) -> None:
        self._dsn = dsn
        self._wait_s = wait_s
        self._outages = outages or Outages()
        self._connect_args = connect_args
        self._free = asyncio.Semaphore(size)
        self._idle: list[asyncpg.Connection] = []

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with asyncio.timeout(self._wait_s):
                await self._free.acquire()
        except TimeoutError:
            raise overloaded() from None
        try:
            conn = self._idle.pop() if self._idle else None
            if conn is None or conn.is_closed():
                conn = await self._connect()
            try:
                yield conn
            except asyncpg.PostgresError:
                self._release(conn)
                raise
            except BaseException:
                conn.terminate()
                raise
            self._release(conn)
        finally:
            self._free.release()

    async def _connect(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(self._dsn, **self._connect_args)
        except Exception as exc:
            raise self._outages.failed(exc, "unreachable") from exc

    def _release(self, conn: asyncpg.Connection) -> None:
        if conn.is_closed() or conn.is_in_transaction():
            conn.terminate()
        else:
            self._idle.append(conn)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


class Database:
    """The one engine of the process and the transaction scopes use cases run in."""

    def __init__(self, engine: AsyncEngine, *, max_attempts: int = 8) -> None:
        self.engine = engine
        self.max_attempts = max_attempts
        self.outages = Outages()
        args = _DRIVER_ARGS.get(engine.sync_engine)
        self._driver = None if args is None else DriverPool(*args, outages=self.outages)

    @property
    def has_driver(self) -> bool:
        """True when `driver()` is available (PostgreSQL through asyncpg)."""
        return self._driver is not None

    async def run_driver(self, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run `work` on a plain asyncpg connection in autocommit, again from the start on a
        serialization failure or deadlock. `work` must be one statement or its own
        transaction: nothing it did may stay open when it returns."""
        if self._driver is None:
            raise RuntimeError("no asyncpg driver pool: PostgreSQL through asyncpg only")
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with self._driver.acquire() as conn:
                    result = await work(conn)
            except asyncpg.PostgresError as exc:
                if attempt < self.max_attempts and exc.sqlstate in _RETRYABLE_PG:
                    await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
                    continue
                self._raise_unavailable(exc)
                raise
            except OSError as exc:  # `work` is asyncpg's alone: its socket failed
                raise self.outages.failed(exc, "unreachable") from exc
            except asyncpg.InterfaceError as exc:
                self._raise_unavailable(exc)
                raise
            self.outages.succeeded()
            return result
        raise AssertionError("unreachable")

    def _raise_unavailable(self, exc: Exception) -> None:
        """Raise `DatabaseUnavailable` from `exc` when it means the database cannot serve
        now, after noting it in the current incident; return when it means something else."""
        reason = classify(exc)
        if reason is not None:
            raise self.outages.failed(exc, reason) from exc

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A connection for reading. On PostgreSQL it runs in autocommit: under READ COMMITTED
        each statement reads its own snapshot inside a transaction as well, so BEGIN and
        ROLLBACK would only add two round trips to every read."""
        async with self._connect() as conn:
            if self.dialect == "postgresql":
                await conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn
            if conn.in_transaction():
                await conn.rollback()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        async with self._connect() as conn:
            await conn.execution_options(**{_WRITE_OPTION: True})
            async with conn.begin():
                yield conn

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        conn = self.engine.connect()
        try:
            await conn.start()
        except PoolTimeout:
            raise overloaded() from None
        except Exception as exc:  # whatever stops connecting: the database is unreachable
            raise self.outages.failed(exc, "unreachable") from exc
        try:
            yield conn
        except Exception as exc:
            self._raise_unavailable(exc)
            raise
        finally:
            await conn.close()
        self.outages.succeeded()

    async def run_write(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run `work` in one write transaction, again from the start when the database asks."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                async with self.write() as conn:
                    return await work(conn)
            except DBAPIError as exc:
                if attempt == self.max_attempts or not is_retryable(exc):
                    raise
            await asyncio.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        if self._driver is not None:
            await self._driver.close()
        await self.engine.dispose()
