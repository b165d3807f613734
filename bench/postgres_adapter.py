"""The PostgreSQL adapter, in-process, on a database of its own: `make bench`.

Bulk insert rates through COPY (the adapter's `add_many`) and through asyncpg `executemany` of the same
rows in one transaction, at 10,000 and 100,000 users; then, on 100,000 users, the cost of a page at
row 90,000 by keyset cursor and by offset against the first page. Ratios are taken within this run.
USERS_BENCH_POSTGRES_URL names the server (default: the local one, user postgres).
"""

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg

from adapters.passwords import Argon2PasswordHasher, HashingOptions
from adapters.postgres import PoolOptions, PostgresUserRepository, describe, migrate, open_pool
from adapters.postgres.admin import quote_identifier
from adapters.postgres.connections import Pool
from adapters.postgres.repository import COLUMNS, row_of
from domain.access import OPERATOR
from domain.model import Profile, User
from domain.sources import Uuid7Ids, utc_now
from domain.use_cases import ListUsers, RegisterUsers

SERVER = os.environ.get("USERS_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
RUNS = 21
RUNS_OF_BULK = 5
_VALUES = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
INSERT = f"INSERT INTO users ({', '.join(COLUMNS)}) VALUES ({_VALUES})"  # noqa: S608

UNUSED_HASHER = Argon2PasswordHasher(HashingOptions())  # the drafts carry no password


def make_users(count: int, new_id: Uuid7Ids) -> list[User]:
    now = utc_now()
    return [
        User(new_id(), Profile.parse({"username": f"user{i}", "email": f"user{i}@example.com"}), now, now)
        for i in range(count)
    ]


async def rate(pool: Pool, users: list[User], write: Callable[[list[User]], Awaitable[None]]) -> float:
    async with pool.acquire() as connection:
        await connection.execute("TRUNCATE users")
        await connection.execute("CHECKPOINT")
    started = time.perf_counter()
    await write(users)
    return len(users) / (time.perf_counter() - started)


async def median_ms(operation: Callable[[], Awaitable[object]]) -> float:
    await operation()  # warm: plans and caches
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await operation()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


async def bench(url: str) -> None:
    new_id = Uuid7Ids()
    async with open_pool(
        url, PoolOptions(min_size=2, max_size=4, statement_timeout=600, command_timeout=600)
    ) as pool:
        repository = PostgresUserRepository(pool, acquire_timeout=10)

        async def executemany(users: list[User]) -> None:
            async with pool.acquire() as connection, connection.transaction():
                await connection.executemany(INSERT, [row_of(user) for user in users])

        print(f"{'bulk insert, one transaction':34} {'users':>8} {'users/s':>10} {'x executemany':>14}")
        for count in (10_000, 100_000):
            users = make_users(count, new_id)
            many = await rate(pool, users, executemany)
            copy = await rate(pool, users, repository.add_many)
            print(f"{'executemany':34} {count:8,} {many:10,.0f} {1:14.2f}")
            print(f"{'COPY (add_many)':34} {count:8,} {copy:10,.0f} {copy / many:14.2f}")

        await bulk_path(pool, repository, new_id, many)
        list_users = ListUsers(repository)  # the table now holds the 100,000 users of the bulk path
        async with pool.acquire() as connection:
            await connection.execute("VACUUM ANALYZE users")
        cursor = None
        for _ in range(90_000 // 200):
            cursor = (await list_users(OPERATOR, limit=200, cursor=cursor)).next_cursor
        rows = {
            "first page (50)": lambda: list_users(OPERATOR, limit=50),
            "page at row 90,000 by cursor": lambda: list_users(OPERATOR, limit=50, cursor=cursor),
            "page at row 90,000 by offset": lambda: list_users(OPERATOR, limit=50, offset=90_000),
        }
        results = {name: await median_ms(operation) for name, operation in rows.items()}
        first = results["first page (50)"]
        print(f"\n{'page of 100,000 users':34} {'median ms':>10} {'x first page':>13}")
        for name, milliseconds in results.items():
            print(f"{name:34} {milliseconds:10.3f} {milliseconds / first:13.2f}")


async def bulk_path(
    pool: Pool, repository: PostgresUserRepository, new_id: Uuid7Ids, executemany: float
) -> None:
    """100,000 users from drafts (what a client sends) through RegisterUsers, domain rules included,
    against a bare COPY of the same rows, ready-made: the medians of five runs of each."""
    drafts = [
        {"username": f"user{i}", "email": f"user{i}@example.com", "first_name": "Ada"} for i in range(100_000)
    ]
    records = [row_of(user) for user in make_users(100_000, new_id)]

    async def bare_copy(_: object) -> None:
        async with pool.acquire() as connection, connection.transaction():
            await connection.copy_records_to_table("users", records=records, columns=COLUMNS)

    register = RegisterUsers(repository, utc_now, new_id, UNUSED_HASHER)
    bares, wholes = [], []
    for _ in range(RUNS_OF_BULK):  # in turns, so that the machine's other load falls on both alike
        bares.append(await rate(pool, records, bare_copy))  # type: ignore[arg-type]
        wholes.append(await rate(pool, drafts, lambda _: register(OPERATOR, drafts)))  # type: ignore[arg-type, return-value]
    bare, whole = statistics.median(bares), statistics.median(wholes)
    print(f"\n{'100,000 users in one request':34} {'users/s':>10} {'x bare COPY':>12} {'x executemany':>14}")
    print(f"{'bare COPY of ready rows':34} {bare:10,.0f} {1:12.2f} {bare / executemany:14.2f}")
    name = "bulk path (RegisterUsers, rules)"
    print(f"{name:34} {whole:10,.0f} {whole / bare:12.2f} {whole / executemany:14.2f}")
    met = "yes" if whole / bare >= 0.8 else "NO"
    print(f"target: the bulk path >= 0.8x a bare COPY: {whole / bare:.2f} ({met})")


async def execute(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def own_database() -> Iterator[str]:
    """A migrated database made for one bench run, dropped after it."""
    name = f"users_bench_{uuid4().hex[:12]}"
    try:
        asyncio.run(execute(SERVER, f"CREATE DATABASE {quote_identifier(name)}"))
    except (OSError, asyncpg.PostgresError) as error:
        sys.exit(f"no PostgreSQL at {describe(SERVER)} ({error}); set USERS_BENCH_POSTGRES_URL")
    url = urlunsplit(urlsplit(SERVER)._replace(path=f"/{name}"))
    try:
        migrate(url)
        yield url
    finally:
        asyncio.run(execute(SERVER, f"DROP DATABASE {quote_identifier(name)} WITH (FORCE)"))


def main() -> None:
    with own_database() as url:
        asyncio.run(bench(url))


if __name__ == "__main__":
    main()
