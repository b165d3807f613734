"""A pooled connection for one operation: acquired within a time limit, driver failures told as
the domain's StorageUnavailable, and released even when the server cut it."""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import TypeAlias

import asyncpg

from adapters.postgres.errors import storage_errors

log = logging.getLogger(__name__)

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
Connection: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"


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
                self._connection: Connection = await self._pool.acquire()
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
        if error is not None:
            with storage_errors():
                raise error
