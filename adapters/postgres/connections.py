"""A pooled connection for one operation: acquired within a time limit, driver failures told as
the domain's StorageUnavailable, and released even when the server cut it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg

from adapters.postgres.errors import storage_errors

log = logging.getLogger(__name__)

Pool: TypeAlias = "asyncpg.Pool[asyncpg.Record]"
Connection: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"


@asynccontextmanager
async def connection_of(pool: Pool, acquire_timeout: float) -> AsyncIterator[Connection]:
    with storage_errors():
        # asyncio.timeout, not acquire(timeout=...): that one wraps each acquire in a task of its own.
        async with asyncio.timeout(acquire_timeout):
            connection = await pool.acquire()
    try:
        with storage_errors():
            yield connection
    finally:
        try:
            await pool.release(connection)
        except Exception as error:
            # A connection killed just after its last statement fails its reset, and the pool
            # drops it. The operation's own outcome (a committed write included) stands.
            log.warning("dropped a connection that failed its reset: %s", type(error).__name__)
