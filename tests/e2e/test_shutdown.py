"""SIGTERM with requests in flight: they finish with their normal answer, new connections are
refused, the pool closes in time and the process exits 0; a request that outlives the grace
period is cut off and leaves nothing half-written."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.service import Service, environment
from tests.postgres import fetchval, waiting_on_a_lock

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

API = "/api/v1/users"


@pytest.fixture
async def locked_table(database: str) -> AsyncIterator[asyncpg.Connection]:
    """Holds an exclusive lock on the users table until the test rolls it back: every statement of
    the service on it waits, so its requests stay in flight as long as the test wants."""
    connection = await asyncpg.connect(database)
    transaction = connection.transaction()
    await transaction.start()
    await connection.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    yield connection
    if not connection.is_closed():
        await connection.close()


def user(name: str) -> dict[str, str]:
    return {"username": name, "email": f"{name}@example.com"}


async def test_sigterm_drains_requests_in_flight_refuses_new_ones_and_exits_cleanly(
    tmp_path: Path, database: str, locked_table: asyncpg.Connection
) -> None:
    env = environment(database_url=database, application_name="drain-test", shutdown_timeout="10")
    service = await asyncio.to_thread(Service.start, tmp_path, env)
    async with httpx.AsyncClient(base_url=service.base, timeout=15) as client:
        single = [asyncio.create_task(client.post(API, json=user(f"single{n}"))) for n in range(5)]
        bulk = asyncio.create_task(client.post(f"{API}/bulk", json=[user(f"bulk{n}") for n in range(200)]))
        await waiting_on_a_lock(database, "drain-test", 6)

        service.terminate()
        await asyncio.sleep(0.5)
        with pytest.raises(httpx.ConnectError):
            await asyncio.to_thread(httpx.get, f"{service.base}/health/live", timeout=1)
        assert service.process.poll() is None  # still draining
        await locked_table.execute("ROLLBACK")  # the lock goes; the requests in flight go on
        released = time.monotonic()
        answers = await asyncio.gather(*single, bulk)

    status = await asyncio.to_thread(service.wait, 10)
    stopped_after = time.monotonic() - released
    output = service.output()
    assert [answer.status_code for answer in answers] == [201] * 6, output
    assert await fetchval(database, "SELECT count(*) FROM users") == 205
    assert status == 0, output
    assert stopped_after < 3, f"the process took {stopped_after:.1f} s to stop after its last request"
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert (
        await fetchval(
            database, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'drain-test'"
        )
        == 0
    )


async def test_a_request_that_outlives_the_grace_period_is_cut_off_and_writes_nothing(
    tmp_path: Path, database: str, locked_table: asyncpg.Connection
) -> None:
    env = environment(
        database_url=database, application_name="grace-test", shutdown_timeout="1", pool_close_timeout="1"
    )
    service = await asyncio.to_thread(Service.start, tmp_path, env)
    async with httpx.AsyncClient(base_url=service.base, timeout=15) as client:
        bulk = asyncio.create_task(client.post(f"{API}/bulk", json=[user(f"late{n}") for n in range(200)]))
        await waiting_on_a_lock(database, "grace-test", 1)
        terminated = time.monotonic()
        service.terminate()
        status = await asyncio.to_thread(service.wait, 10)  # with the lock still held
        stopped_after = time.monotonic() - terminated
        answer = await asyncio.gather(bulk, return_exceptions=True)
    await locked_table.execute("ROLLBACK")

    output = service.output()
    assert status == 0, output
    assert stopped_after < 1 + 1 + 1.5, f"grace 1 s + pool close 1 s, but it took {stopped_after:.1f} s"
    [cut_off] = answer
    assert isinstance(cut_off, httpx.Response), cut_off
    assert cut_off.status_code == 503
    assert cut_off.headers["retry-after"] == "1"
    assert cut_off.json()["code"] == "shutting_down"
    assert await fetchval(database, "SELECT count(*) FROM users") == 0
    assert "Traceback" not in output
