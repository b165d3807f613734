"""A pooled connection for one operation: acquired within a time limit, driver failures told as
the domain's StorageUnavailable, and released even when the server cut it."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

from adapters.postgres.errors import storage_errors

log = logging.getLogger(__name__)

Connection: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"

if TYPE_CHECKING:
    _AsyncpgPool = asyncpg.Pool[asyncpg.Record]
else:
    _AsyncpgPool = asyncpg.Pool


class Pool(_AsyncpgPool):
    """asyncpg's pool, with a line in front of it: `turns`, a semaphore as large as the pool.

    asyncpg hands a released connection to whichever task asks next, and a waiter woken for it
    that finds it taken goes back to the end of the line (asyncpg#1247). Under load, a quarter of
    the waits were such second waits, and a few requests waited ten times the median (one unlucky
    enough could wait out the acquire timeout: a 503 while the pool turns over). asyncio's
    Semaphore is first come, first served (a release hands the turn to the oldest waiter, and no
    newcomer passes a waiter), so `connection_of` takes a turn before a connection, and then
    normally finds one free. Not always: whatever takes a connection without a turn
    (`pool.acquire()` in tools and tests, the pool reconnecting a dropped connection, a release
    cut short by cancellation) can make a turn's holder wait in asyncpg's line, within the
    acquire timeout as before."""

    __slots__ = ("turns",)

    def __init__(self, dsn: str, *, max_size: int, **options: Any) -> None:
        super().__init__(dsn, max_size=max_size, **(CREATE_POOL_DEFAULTS | options))
        # Bounded: a turn given back twice would let more operations through than there are
        # connections, so it raises instead.
        self.turns = asyncio.BoundedSemaphore(max_size)


# asyncpg.create_pool's defaults for what asyncpg.Pool requires (create_pool cannot make a subclass).
CREATE_POOL_DEFAULTS: dict[str, Any] = {
    "max_queries": 50_000,
    "max_inactive_connection_lifetime": 300.0,
    "loop": None,
    "connection_class": asyncpg.Connection,
    "record_class": asyncpg.Record,
}


class connection_of:
    """`async with connection_of(pool, acquire_timeout) as connection:` (a class, not a generator:
    it is on every request's path, and a generator-based context manager costs more)."""

    __slots__ = ("_connection", "_pool", "_timeout")

    def __init__(self, pool: Pool, acquire_timeout: float) -> None:
        self._pool, self._timeout = pool, acquire_timeout

    async def __aenter__(self) -> Connection:
        with storage_errors():
            # asyncio.timeout, not acquire(timeout=...): that one wraps each acquire in a task.
            async with asyncio.timeout(self._timeout):
                await self._pool.turns.acquire()
                try:
                    self._connection: Connection = await self._pool.acquire()
                except BaseException:
                    self._pool.turns.release()
                    raise
        return self._connection

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            await self._pool.release(self._connection)
        except Exception as failure:
            # A connection killed just after its last statement fails its release, and the pool
            # drops it. The operation's own outcome (a committed write included) stands.
            log.warning("dropped a connection that failed its reset: %s", type(failure).__name__)
        finally:
            self._pool.turns.release()
        if error is not None:
            with storage_errors():
                raise error
