"""The database goes away and comes back: the service says so fast, and recovers by itself."""

import asyncio
import time

import httpx
import pytest

from tests.api.conftest import API, assert_problem
from tests.integration.conftest import AppClient
from tests.integration.proxy import Proxy

pytestmark = pytest.mark.postgres

# Once the path is cut, a write may wait to open a connection or to get one from the pool, and no
# longer. Every other timeout is far away, so a write that waits for one of them fails the bound
# (a few of these timeouts, for a loaded machine), as a write that hangs does.
CONNECT = 1.0
FAST = 4 * CONNECT
SETTINGS = {
    "pool_min_size": 2,
    "pool_max_size": 4,
    "connect_timeout": CONNECT,
    "pool_acquire_timeout": CONNECT,
    "command_timeout": 30,
    "statement_timeout": 30,
}


async def eventually_201(client: httpx.AsyncClient, username: str, within: float) -> float:
    """Seconds until a create succeeds again; every answer meanwhile is a 503."""
    started = time.monotonic()
    while True:
        response = await client.post(API, json={"username": username, "email": f"{username}@example.com"})
        if response.status_code == 201:
            return time.monotonic() - started
        assert_problem(response, 503, "storage_unavailable")
        assert time.monotonic() - started < within, "the service did not recover"
        await asyncio.sleep(0.1)


async def test_with_the_database_cut_off_writes_503_fast_ready_503_live_200_then_recovery(
    app_client: AppClient, proxy: tuple[Proxy, str]
) -> None:
    path, url = proxy
    async with app_client(url, **SETTINGS) as (_, client):
        assert (
            await client.post(API, json={"username": "before", "email": "before@example.com"})
        ).status_code == 201

        await path.cut()
        answers = []
        for attempt in range(5):
            started = time.monotonic()
            response = await client.post(
                API, json={"username": f"during{attempt}", "email": f"d{attempt}@example.com"}
            )
            answers.append((response, time.monotonic() - started))
        ready = await client.get("/health/ready")
        live = await client.get("/health/live")

        for response, elapsed in answers:
            assert_problem(response, 503, "storage_unavailable")
            assert response.headers["retry-after"] == "1"
            assert elapsed < FAST, f"a write took {elapsed:.2f} s to fail"
        assert_problem(ready, 503, "storage_unavailable")
        assert live.status_code == 200

        await path.start()
        await eventually_201(client, "after", within=10)
        listed = (await client.get(API, params={"include_total": "true"})).json()

    assert [user["username"] for user in listed["items"]] == ["admin", "before", "after"]
    assert listed["total"] == 3
