"""Operations get their connections in the order they asked: asyncpg's own queue lets a newcomer
take a connection released for someone already waiting (asyncpg#1247), which under load left a few
requests waiting many times longer than the rest, up to the acquire timeout. Every way out of an
operation gives its turn back, once."""

import asyncio
import inspect

import asyncpg
import pytest

from adapters.postgres import PoolOptions, open_pool
from adapters.postgres.connections import CREATE_POOL_DEFAULTS, Connection, Pool, connection_of
from domain.errors import StorageUnavailable

SIZE = 2


async def every_turn_is_back(pool: Pool) -> bool:
    """All SIZE operations at once get a connection: no turn was kept (a kept turn would make the
    last of them time out). A turn given back twice raises where it happens (BoundedSemaphore)."""

    async def hold(entered: asyncio.Barrier) -> int:
        async with connection_of(pool, 2) as connection:
            await entered.wait()
            value: int = await connection.fetchval("SELECT 1")
            return value

    entered = asyncio.Barrier(SIZE)
    try:
        return await asyncio.gather(*(hold(entered) for _ in range(SIZE))) == [1] * SIZE
    except StorageUnavailable:
        return False


def test_the_pool_is_made_with_create_pools_own_defaults() -> None:
    """create_pool cannot make a subclass, so Pool passes what it would: the same values."""
    defaults = inspect.signature(asyncpg.create_pool).parameters
    assert {name: defaults[name].default for name in CREATE_POOL_DEFAULTS} == CREATE_POOL_DEFAULTS


@pytest.mark.postgres
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
        idle = pool.get_idle_size()

    assert served == ["first", "second", "third", "newcomer"]
    assert idle == 1


@pytest.mark.postgres
async def test_an_operation_that_times_out_in_line_gives_up_its_place(database_url: str) -> None:
    async with open_pool(database_url, PoolOptions(min_size=SIZE, max_size=SIZE)) as pool:
        async with connection_of(pool, 5), connection_of(pool, 5):
            with pytest.raises(StorageUnavailable):
                async with connection_of(pool, 0.05):  # times out waiting for a turn
                    pass
        assert await every_turn_is_back(pool)


@pytest.mark.postgres
async def test_an_operation_that_times_out_on_the_pool_gives_its_turn_back(database_url: str) -> None:
    async with open_pool(database_url, PoolOptions(min_size=SIZE, max_size=SIZE)) as pool:
        async with pool.acquire(), pool.acquire():  # taken without turns: asyncpg's own line is full
            with pytest.raises(StorageUnavailable):
                async with connection_of(pool, 0.05):  # has its turn, times out on the pool
                    pass
        assert await every_turn_is_back(pool)


@pytest.mark.postgres
async def test_a_connection_killed_in_an_operation_gives_its_turn_back(database_url: str) -> None:
    async with open_pool(database_url, PoolOptions(min_size=SIZE, max_size=SIZE)) as pool:
        with pytest.raises(StorageUnavailable):
            async with connection_of(pool, 5) as connection:
                await connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        assert await every_turn_is_back(pool)


@pytest.mark.postgres
async def test_a_release_that_fails_gives_the_turn_back(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    give_back = Pool.release

    async def cut_on_release(self: Pool, connection: Connection) -> None:
        await give_back(self, connection)
        raise asyncpg.InterfaceError("the connection was cut during its release")

    async with open_pool(database_url, PoolOptions(min_size=SIZE, max_size=SIZE)) as pool:
        monkeypatch.setattr(Pool, "release", cut_on_release)
        async with connection_of(pool, 5) as connection:
            value = await connection.fetchval("SELECT 1")  # the operation's outcome stands
        monkeypatch.undo()
        assert await every_turn_is_back(pool)
    assert value == 1
