"""Each way the database can fail to answer becomes StorageUnavailable (a 503), on the real driver."""

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from adapters.postgres import PoolOptions, PostgresUserRepository, open_pool
from adapters.postgres.errors import storage_errors
from domain.errors import StorageUnavailable
from domain.listing import UserFilter
from domain.sources import Uuid7Ids
from tests.postgres import execute, new_database_name

pytestmark = pytest.mark.postgres


async def test_a_statement_over_its_timeout_is_unavailable(database_url: str) -> None:
    blocker = await asyncpg.connect(database_url)
    try:
        async with open_pool(database_url, PoolOptions(min_size=1, statement_timeout=0.2)) as pool:
            repository = PostgresUserRepository(pool, acquire_timeout=1)
            before = await repository.count(UserFilter())
            async with blocker.transaction():
                await blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
                with pytest.raises(StorageUnavailable) as raised:
                    await repository.count(UserFilter())
            assert isinstance(raised.value.__cause__, asyncpg.QueryCanceledError)
            assert await repository.count(UserFilter()) == before  # the lock is gone, and the failure
    finally:
        await blocker.close()


@pytest.fixture
async def limited_role(database_url: str) -> AsyncIterator[str]:
    """A role allowed one connection (superusers are exempt from such limits), and its URL."""
    role = new_database_name("users_limited")
    await execute(
        database_url, f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 1", f"GRANT ALL ON users TO {role}"
    )
    parts = urlsplit(database_url)
    yield urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port or 5432}"))
    await execute(database_url, f"DROP OWNED BY {role}", f"DROP ROLE {role}")


async def test_too_many_connections_is_unavailable(limited_role: str) -> None:
    holder = await asyncpg.connect(limited_role)  # the role's only connection
    try:
        async with open_pool(limited_role, PoolOptions(min_size=0, max_size=2)) as pool:
            repository = PostgresUserRepository(pool, acquire_timeout=1)
            with pytest.raises(StorageUnavailable) as raised:
                await repository.get(Uuid7Ids()())
            assert isinstance(raised.value.__cause__, asyncpg.TooManyConnectionsError)
    finally:
        await holder.close()


async def test_the_pool_names_itself_and_sets_the_statement_timeout(database_url: str) -> None:
    options = PoolOptions(min_size=1, application_name="users-api-probe", statement_timeout=1.5)
    async with open_pool(database_url, options) as pool, pool.acquire() as connection:
        name = await connection.fetchval(
            "SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        )
        timeout = await connection.fetchval("SHOW statement_timeout")
    assert (name, timeout) == ("users-api-probe", "1500ms")


async def test_a_pool_that_cannot_close_in_time_is_cut(database_url: str) -> None:
    name = new_database_name("users_closing")
    close_timeout = 0.5
    options = PoolOptions(min_size=1, close_timeout=close_timeout, application_name=name)
    async with open_pool(database_url, options) as pool:
        await pool.acquire()  # never released, as by a request that outlives the shutdown
        closing = time.monotonic()
    elapsed = time.monotonic() - closing

    # It waited for the graceful close, then cut at once: never waiting for the connection (a hang).
    assert close_timeout <= elapsed < 8 * close_timeout, f"closing took {elapsed:.2f} s"
    observer = await asyncpg.connect(database_url)
    try:
        for _ in range(50):  # the server sees the cut connections go within moments
            left = await observer.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", name
            )
            if left == 0:
                break
            await asyncio.sleep(0.05)
        assert left == 0
    finally:
        await observer.close()


async def test_a_transaction_whose_connection_was_cut_under_it_is_unavailable(database_url: str) -> None:
    """Its end then fails too ("cannot call Transaction.__aexit__(): the underlying connection is
    closed"): a lost connection like the rest, not a bug."""
    connection = await asyncpg.connect(database_url)

    async def cut_in_a_transaction() -> None:
        with storage_errors():
            async with connection.transaction():
                await execute(database_url, f"SELECT pg_terminate_backend({connection.get_server_pid()})")
                await connection.execute("SELECT 1")

    try:
        with pytest.raises(StorageUnavailable) as raised:
            await cut_in_a_transaction()
        assert isinstance(raised.value.__cause__, asyncpg.InterfaceError)
    finally:
        await connection.close()
