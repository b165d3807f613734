from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest

from tests.postgres import empty


@pytest.fixture
async def database(own_database: str) -> str:
    """The module's database, emptied for this test."""
    await empty(own_database)
    return own_database


@pytest.fixture
async def lock_users(database: str) -> AsyncIterator[Callable[[], Awaitable[asyncpg.Connection]]]:
    """Takes, when called, an exclusive lock on the users table, held until the test rolls it back:
    every statement of the service on it waits, so its requests stay in flight as long as the test
    wants."""
    connection = await asyncpg.connect(database)

    async def lock() -> asyncpg.Connection:
        await connection.execute("BEGIN")
        await connection.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        return connection

    yield lock
    if not connection.is_closed():
        await connection.close()
