"""What PostgreSQL adds: real concurrency on unique keys, and a pool that can run out."""

import asyncio
import time

import pytest

from tests.api.conftest import API, assert_problem
from tests.integration.conftest import AppClient
from tests.postgres import fetchval

pytestmark = pytest.mark.postgres


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
    async with app_client(pool_max_size=10) as (_, client):
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
    async with app_client(pool_min_size=1, pool_max_size=1, pool_acquire_timeout=0.3) as (container, client):
        pool = container.storage.pool()
        async with pool.acquire():  # the pool's only connection, held
            started = time.monotonic()
            response = await client.post(API, json={"username": "ada", "email": "ada@example.com"})
            elapsed = time.monotonic() - started
            ready = await client.get("/health/ready")

        assert_problem(response, 503, "storage_unavailable")
        assert response.headers["retry-after"] == "1"
        assert 0.3 <= elapsed < 2, elapsed
        assert ready.status_code == 503
        # Released: the same request succeeds.
        assert (
            await client.post(API, json={"username": "ada", "email": "ada@example.com"})
        ).status_code == 201
