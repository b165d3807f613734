"""The in-memory adapter under 100,000 users, in-process: `make bench`.

Prints the median of 5 runs of each operation, and its ratio to the first page, all taken in one run.
"""

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from adapters.memory import InMemoryUserRepository
from adapters.passwords import Argon2PasswordHasher, HashingOptions
from domain.access import OPERATOR
from domain.listing import Sort, UserFilter
from domain.sources import Uuid7Ids, utc_now
from domain.use_cases import GetUser, ListUsers, RegisterUsers

USERS, BATCH, RUNS = 100_000, 1_000, 5

UNUSED_HASHER = Argon2PasswordHasher(HashingOptions())  # the drafts carry no password


async def median_seconds(operation: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        await operation()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def main() -> None:
    users = InMemoryUserRepository()
    register = RegisterUsers(users, utc_now, Uuid7Ids(), UNUSED_HASHER)
    started = time.perf_counter()
    for batch in range(USERS // BATCH):
        await register(
            OPERATOR,
            [{"username": f"u{batch}x{i}", "email": f"u{batch}x{i}@example.com"} for i in range(BATCH)],
        )
    print(f"bulk registration: {USERS / (time.perf_counter() - started):,.0f} users/s ({USERS:,} users)")

    list_users, get = ListUsers(users), GetUser(users)
    cursor = None
    for _ in range(90_000 // 200):
        cursor = (await list_users(OPERATOR, limit=200, cursor=cursor)).next_cursor
    some_id = (await list_users(OPERATOR, limit=1)).items[0].id
    rows = {
        "first page (50)": lambda: list_users(OPERATOR, limit=50),
        "page at row 90,000 by cursor": lambda: list_users(OPERATOR, limit=50, cursor=cursor),
        "page at row 90,000 by offset": lambda: list_users(OPERATOR, limit=50, offset=90_000),
        "first page sorted by -username": lambda: list_users(OPERATOR, limit=50, sort=Sort.USERNAME_DESC),
        "search q=x99": lambda: list_users(OPERATOR, limit=50, filter=UserFilter.parse(q="x99")),
        "get one by id": lambda: get(OPERATOR, some_id),
    }
    results = {name: await median_seconds(operation) for name, operation in rows.items()}
    first = results["first page (50)"]
    print(f"{'operation':34} {'median ms':>10} {'x first page':>13}")
    for name, seconds in results.items():
        print(f"{name:34} {seconds * 1000:10.3f} {seconds / first:13.3f}")


if __name__ == "__main__":
    asyncio.run(main())
