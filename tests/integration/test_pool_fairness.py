"""Operations get their connections in the order they asked: asyncpg's own queue lets a newcomer
take a connection released for someone already waiting (asyncpg#1247), which under load left a few
requests waiting many times longer than the rest, up to the acquire timeout."""

import asyncio

import pytest

from adapters.postgres import PoolOptions, open_pool
from adapters.postgres.connections import Pool, connection_of
from domain.errors import StorageUnavailable

pytestmark = pytest.mark.postgres


async def test_a_released_connection_goes_to_the_longest_waiting_operation(database_url: str) -> None:
    served: list[str] = []

    async def operation(name: str, pool: Pool) -> None:
        async with connection_of(pool, 5):
            served.append(name)

    async with open_pool(database_url, PoolOptions(min_size=1, max_size=1)) as pool:
        async with connection_of(pool, 5):  # the pool's only connection
            waiting = []
            for name in ("first", "second", "third"):
                waiting.append(asyncio.create_task(operation(name, pool)))
                for _ in range(10):  # until it waits in line (no I/O: a few turns of the loop)
                    await asyncio.sleep(0)
        # The task that just gave the connection back asks again at once, as a busy server's does.
        await operation("newcomer", pool)
        await asyncio.gather(*waiting)
        after = pool.turns.locked(), pool.get_idle_size()

    assert served == ["first", "second", "third", "newcomer"]
    assert after == (False, 1)  # every turn and the connection given back


async def test_an_operation_that_times_out_in_line_gives_up_its_place(database_url: str) -> None:
    async with open_pool(database_url, PoolOptions(min_size=1, max_size=1)) as pool:
        async with connection_of(pool, 5):
            with pytest.raises(StorageUnavailable):
                async with connection_of(pool, 0.05):
                    pass
        async with connection_of(pool, 5) as connection:  # the line is empty again
            value = await connection.fetchval("SELECT 1")

    assert value == 1
    assert not pool.turns.locked()
