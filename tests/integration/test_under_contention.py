"""What PostgreSQL adds: real concurrency on unique keys, and a pool that can run out."""

import asyncio
import time

import asyncpg
import httpx
import pytest

from tests.api.conftest import API, assert_problem
from tests.integration.conftest import AppClient
from tests.postgres import fetchval, waiting_on_a_lock

pytestmark = pytest.mark.postgres

ACQUIRE = 0.5  # seconds a request waits for a pooled connection: what these tests are about
# Every other timeout, set far away: a request that waits for one of them has as good as hung, and
# the bounds below (a few acquire timeouts, for a loaded machine) stay far below it.
SLOW = {"connect_timeout": 30, "command_timeout": 30, "statement_timeout": 30}


async def test_fifty_concurrent_creates_of_one_email_give_one_201_and_49_409s(
    app_client: AppClient, database_url: str
) -> None:
    cases = [
        "same@example.com",
        "SAME@example.com",
        "Same@Example.COM",
        "same@EXAMPLE.com",
        "sAmE@example.com",
    ]
    async with app_client(pool_max_size=10, pool_acquire_timeout=30, **SLOW) as (_, client):
        responses = await asyncio.gather(
            *(
                client.post(API, json={"username": f"user{index}", "email": cases[index % len(cases)]})
                for index in range(50)
            )
        )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 49, statuses
    for response in responses:
        if response.status_code == 409:
            assert assert_problem(response, 409, "user_conflict")["conflicts"] == [{"field": "email"}]
    assert (
        await fetchval(database_url, "SELECT count(*) FROM users WHERE email_key = 'same@example.com'") == 1
    )


async def test_an_exhausted_pool_answers_503_within_its_acquire_timeout(app_client: AppClient) -> None:
    settings = {"pool_min_size": 1, "pool_max_size": 1, "pool_acquire_timeout": ACQUIRE, **SLOW}
    async with app_client(**settings) as (container, client):
        pool = container.storage.pool()
        async with pool.acquire():  # the pool's only connection, held
            started = time.monotonic()
            response = await client.post(API, json={"username": "ada", "email": "ada@example.com"})
            elapsed = time.monotonic() - started
            ready = await client.get("/health/ready")

        assert_problem(response, 503, "storage_unavailable")
        assert response.headers["retry-after"] == "1"
        assert ACQUIRE <= elapsed < 8 * ACQUIRE, f"{elapsed:.2f} s for a {ACQUIRE} s acquire timeout"
        assert ready.status_code == 503
        # Released: the same request succeeds.
        assert (
            await client.post(API, json={"username": "ada", "email": "ada@example.com"})
        ).status_code == 201


async def test_under_overload_the_excess_gets_a_fast_503_and_service_resumes_when_load_drops(
    app_client: AppClient, database_url: str
) -> None:
    settings = {
        "pool_max_size": 2,
        "pool_acquire_timeout": ACQUIRE,
        "application_name": "overload-test",
        **SLOW,
    }
    async with app_client(**settings) as (_, client):
        blocker = await asyncpg.connect(database_url)
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")  # holds both connections

        async def create(n: int) -> tuple[httpx.Response, float]:
            started = time.monotonic()
            response = await client.post(API, json={"username": f"user{n}", "email": f"user{n}@example.com"})
            return response, time.monotonic() - started

        held = [asyncio.create_task(create(n)) for n in range(2)]
        await waiting_on_a_lock(database_url, "overload-test", 2)
        excess = await asyncio.gather(*(create(n) for n in range(2, 12)))
        held_throughout = not any(task.done() for task in held)  # the pool was exhausted all along
        await transaction.rollback()
        await blocker.close()
        finished = await asyncio.gather(*held)
        after = [(await create(n))[0] for n in range(12, 32)]
        ready = await client.get("/health/ready")

    assert held_throughout
    for response, elapsed in excess:
        assert_problem(response, 503, "storage_unavailable")
        assert response.headers["retry-after"] == "1"
        assert ACQUIRE <= elapsed < 8 * ACQUIRE, f"an excess request waited {elapsed:.2f} s for its 503"
    assert [response.status_code for response, _ in finished] == [201, 201]
    assert [response.status_code for response in after] == [201] * 20
    assert ready.status_code == 200
    assert await fetchval(database_url, "SELECT count(*) FROM users") == 1 + 22  # and the admin
