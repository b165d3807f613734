"""Which way to drive SQLite from the event loop, measured (`python -m bench.sqlite_drivers`):

- aiosqlite: each connection a thread of its own; every statement a hop to it and back. One
  connection reads, another writes, a write committed on its own (as most aiosqlite code does).
- stdlib sqlite3 as the adapter runs it (adapters/sqlite/store.py): reads on the event loop under a
  2 ms budget, writes queued to one writer thread that commits them in groups.

Same file (WAL, synchronous FULL), same SQL and the same rows read back into Users, 100,000 users,
32 tasks at once on one event loop (uvloop), each scenario for BENCH_SECONDS (default 3).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID

import aiosqlite
import uvloop

from adapters.sqlite import SqliteStore, SqliteUserRepository, StoreOptions, migrate
from adapters.sqlite.repository import _INSERT_IF_FREE, _SELECT, _user, row_of
from bench.postgres_adapter import make_users
from domain.listing import PageQuery, Sort, UserFilter
from domain.model import Profile, User
from domain.sources import Uuid7Ids, utc_now

USERS = 100_000
TASKS = 32
SECONDS = float(os.environ.get("BENCH_SECONDS", "3"))
_PAGE = f"{_SELECT} ORDER BY created_at, id LIMIT 50"


class AiosqliteUsers:
    """The three operations on aiosqlite: a thread per connection."""

    def __init__(self, reader: aiosqlite.Connection, writer: aiosqlite.Connection) -> None:
        self._reader, self._writer, self._lock = reader, writer, asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> AiosqliteUsers:
        connections = []
        for _ in range(2):
            connection = await aiosqlite.connect(path, isolation_level=None)
            await connection.execute("PRAGMA busy_timeout = 5000")
            await connection.execute("PRAGMA synchronous = FULL")
            connections.append(connection)
        return cls(*connections)

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    async def get(self, user_id: UUID) -> User | None:
        async with self._reader.execute(f"{_SELECT} WHERE id = ?", (user_id.hex,)) as cursor:
            rows = list(await cursor.fetchall())
        return _user(tuple(rows[0])) if rows else None

    async def first_page(self) -> list[User]:
        async with self._reader.execute(_PAGE) as cursor:
            return [_user(tuple(row)) for row in await cursor.fetchall()]

    async def add(self, user: User) -> None:
        async with self._lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            await self._writer.execute(_INSERT_IF_FREE, row_of(user))
            await self._writer.execute("COMMIT")


async def measure(operation: Callable[[int], Awaitable[object]]) -> tuple[float, float, float]:
    """Operations a second, and the median and 99th percentile latency in ms, of TASKS tasks."""
    latencies: list[float] = []
    deadline = time.perf_counter() + SECONDS

    async def task(number: int) -> None:
        n = number
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await operation(n)
            latencies.append(time.perf_counter() - started)
            n += TASKS

    started = time.perf_counter()
    await asyncio.gather(*(task(number) for number in range(TASKS)))
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / elapsed, cuts[49] * 1000, cuts[98] * 1000


async def scenarios(
    get: Callable[[UUID], Awaitable[object]],
    page: Callable[[], Awaitable[object]],
    add: Callable[[User], Awaitable[None]],
    ids: list[UUID],
    tag: str,
) -> dict[str, tuple[float, float, float]]:
    new_id = Uuid7Ids()

    def fresh(n: int) -> User:
        now = utc_now()
        profile = Profile.parse({"username": f"{tag}new{n}", "email": f"{tag}new{n}@example.com"})
        return User(new_id(), profile, now, now)

    return {
        "GET one user by id": await measure(lambda n: get(ids[n % len(ids)])),
        "first page of 50": await measure(lambda n: page()),
        "create one user": await measure(lambda n: add(fresh(n))),
    }


async def filled(path: Path, users: list[User]) -> SqliteStore:
    url = f"sqlite:///{path}"
    migrate(url)
    store = SqliteStore(str(path), StoreOptions(write_timeout=60))
    store.open()
    await SqliteUserRepository(store).add_many(users)
    return store


async def run(directory: Path) -> None:
    users = make_users(USERS, Uuid7Ids())
    ids = [user.id for user in users[:: USERS // 1000]]
    results: dict[str, dict[str, tuple[float, float, float]]] = {}

    print("bench: aiosqlite ...", file=sys.stderr, flush=True)
    (await filled(directory / "a.db", users)).close()
    driver = await AiosqliteUsers.open(str(directory / "a.db"))
    results["aiosqlite"] = await scenarios(driver.get, driver.first_page, driver.add, ids, "a")
    await driver.close()

    print("bench: sqlite3 as the adapter drives it ...", file=sys.stderr, flush=True)
    store = await filled(directory / "s.db", users)
    repository = SqliteUserRepository(store)
    query = PageQuery(sort=Sort.CREATED_AT, filter=UserFilter(), limit=50)
    results["sqlite3: writer thread, reads on the loop"] = await scenarios(
        repository.get, lambda: repository.list(query), repository.add, ids, "s"
    )
    store.close()
    report(results)


def report(results: dict[str, dict[str, tuple[float, float, float]]]) -> None:
    print(f"\nSQLite drivers, {USERS:,} users, {TASKS} tasks on one uvloop, {SECONDS:g} s a scenario\n")
    print("| scenario | driver | ops/s | p50 ms | p99 ms | x aiosqlite |")
    print("|---|---|---:|---:|---:|---:|")
    base = results["aiosqlite"]
    for scenario in base:
        for driver, rows in results.items():
            rate, p50, p99 = rows[scenario]
            print(
                f"| {scenario} | {driver} | {rate:,.0f} | {p50:.2f} | {p99:.2f} |"
                f" {rate / base[scenario][0]:.2f} |"
            )


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        uvloop.run(run(Path(scratch)))


if __name__ == "__main__":
    main()
