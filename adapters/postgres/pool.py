"""The connection pool's life: opened inside the running event loop, closed within a time limit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg

from adapters.postgres.connections import Pool
from adapters.postgres.errors import storage_errors
from domain.errors import StorageUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class PoolOptions:
    min_size: int = 2
    max_size: int = 10
    connect_timeout: float = 5.0  # seconds to open one connection
    command_timeout: float = 10.0  # seconds the client waits for a statement
    statement_timeout: float = 5.0  # seconds the server lets a statement run
    close_timeout: float = 5.0  # seconds to close gracefully at shutdown, then connections are cut
    application_name: str = "users-api"
    # Behind PgBouncer in transaction mode, each transaction may run on another server connection:
    # no prepared statement is kept (asyncpg's cache off), and no setting travels with the connect,
    # which PgBouncer refuses (its `connect_query` sets statement_timeout: see deploy/pgbouncer).
    pgbouncer: bool = False


def new_pool(dsn: str, options: PoolOptions) -> Pool:
    """A pool not yet connected. asyncpg binds it to the running event loop, so make it inside one;
    `run_pool` connects it."""
    log.debug("pool of %d to %d connections to %s", options.min_size, options.max_size, describe(dsn))
    return Pool(
        dsn,
        min_size=options.min_size,
        max_size=options.max_size,
        timeout=options.connect_timeout,
        command_timeout=options.command_timeout,
        statement_cache_size=0 if options.pgbouncer else 100,
        reset=_nothing_left_behind,
        server_settings={"application_name": options.application_name}
        | ({} if options.pgbouncer else {"statement_timeout": str(round(options.statement_timeout * 1000))}),
    )


async def _nothing_left_behind(connection: asyncpg.Connection) -> None:
    """What a connection goes back to the pool with: asyncpg has rolled back any open transaction
    first, and this adapter leaves no other session state (no SET, LISTEN, cursor held past its
    transaction, or session-level advisory lock; the admins' lock is transaction-level). So the
    reset query asyncpg would run on every release (pg_advisory_unlock_all, CLOSE ALL, UNLISTEN,
    RESET ALL: a round trip per operation) has nothing to do. tests/integration proves the state."""


async def run_pool(pool: Pool, close_timeout: float) -> AsyncIterator[Pool]:
    """The pool's life, as a dependency-injector Resource: opens its first connections, and at
    shutdown closes it gracefully within `close_timeout` seconds, then cuts what is left."""
    with storage_errors():
        await pool
    try:
        yield pool
    finally:
        try:
            await asyncio.wait_for(pool.close(), close_timeout)
        except TimeoutError:
            log.warning("the database pool did not close within %s s; cutting its connections", close_timeout)
            pool.terminate()


@dataclass(frozen=True, slots=True)
class PoolUsage:
    size: int  # open connections, in use or idle
    idle: int
    max_size: int


def usage(pool: Pool) -> PoolUsage:
    """How many connections the pool holds now, for the metrics."""
    return PoolUsage(size=pool.get_size(), idle=pool.get_idle_size(), max_size=pool.get_max_size())


@asynccontextmanager
async def open_pool(dsn: str, options: PoolOptions) -> AsyncIterator[Pool]:
    """A pool for one `async with` block, for tools and tests."""
    async with asynccontextmanager(run_pool)(new_pool(dsn, options), options.close_timeout) as pool:
        yield pool


async def wait_for_database(dsn: str, within: float, *, database: str | None = None) -> None:
    """Returns once a connection opens; retries what may pass (refused, starting up, too many
    connections) until `within` seconds have gone, then raises StorageUnavailable saying why.
    Anything else (a wrong password, a missing database) raises at once."""
    deadline = time.monotonic() + within
    where = describe(dsn) if database is None else f"{describe(dsn)} (database {database})"
    while True:
        remaining = deadline - time.monotonic()
        try:
            with storage_errors():
                connection = await asyncpg.connect(dsn, timeout=max(remaining, 0.1), database=database)
            await connection.close()
            return
        except StorageUnavailable as error:
            remaining = deadline - time.monotonic()
            log.debug("%s is not answering yet (%s)", where, _reason(error))
            if remaining <= 0:
                raise StorageUnavailable(
                    f"{where} did not answer within {within:g} s ({_reason(error)})"
                ) from error
            await asyncio.sleep(min(0.5, remaining))
        except asyncpg.InvalidCatalogNameError as error:
            raise StorageUnavailable(f"{where} refused: {error} (`users-api create-db` makes it)") from error
        except (asyncpg.PostgresError, OSError, ValueError) as error:
            raise StorageUnavailable(f"{where} refused: {_reason(error)}") from error


def describe(dsn: str) -> str:
    """The database a URL names, without its password: `postgresql://user@host:port/name`."""
    try:
        parts = urlsplit(dsn)
        user = f"{parts.username}@" if parts.username else ""
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{user}{parts.hostname or ''}{port}{parts.path}"
    except ValueError:
        return "the database"


def _reason(error: BaseException) -> str:
    cause = error.__cause__ or error
    return f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
