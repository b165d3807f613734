"""SIGTERM with requests in flight: they finish with their normal answer, new connections are
refused, the pool closes in time and the process exits 0; a request that outlives the grace
period is cut off and leaves nothing half-written."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.service import Service, environment
from tests.postgres import fetchval, waiting_on_a_lock

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

API = "/api/v1/users"
# The statements wait on the test's lock for as long as the test holds it: the database must not
# cancel them first.
PATIENT = {"command_timeout": "60", "statement_timeout": "60", "token_revocation_delay": "5"}


async def signed_in(service: Service) -> dict[str, str]:
    """The admin's headers, once the service has checked them: for the revocation delay (PATIENT
    makes it 5 s) its requests go to the table without reading it first."""
    headers = await asyncio.to_thread(service.login)
    async with httpx.AsyncClient(base_url=service.base, headers=headers) as client:
        assert (await client.get(f"{API}/me")).status_code == 200
    return headers


def user(name: str) -> dict[str, str]:
    return {"username": name, "email": f"{name}@example.com"}


async def refuses_connections(base: str, within: float) -> bool:
    """True once a new connection is refused (the listening socket is closed), polling up to `within` s.
    A connection the kernel had queued when the socket closed is reset instead: refused all the same."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            await asyncio.to_thread(httpx.get, f"{base}/health/live", timeout=1)
        except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
            return True
        except httpx.TimeoutException:
            pass  # accepted by the kernel, but no longer served: not yet refused
        await asyncio.sleep(0.1)
    return False


async def test_sigterm_drains_requests_in_flight_refuses_new_ones_and_exits_cleanly(
    tmp_path: Path,
    database: str,
    lock_users: Callable[[], Awaitable[asyncpg.Connection]],
    request: pytest.FixtureRequest,
) -> None:
    # A grace period and a pool-close timeout far longer than a drain takes: a process that waits
    # for either after its last request has not noticed that the drain is done.
    grace = 30
    env = environment(
        database_url=database,
        application_name="drain-test",
        shutdown_timeout=str(grace),
        pool_close_timeout=str(grace),
        **PATIENT,
    )
    service = await asyncio.to_thread(Service.start, tmp_path, env)
    request.addfinalizer(service.kill)  # a process that hangs is not left behind
    headers = await signed_in(service)
    locked_table = await lock_users()
    async with httpx.AsyncClient(base_url=service.base, timeout=2 * grace, headers=headers) as client:
        single = [asyncio.create_task(client.post(API, json=user(f"single{n}"))) for n in range(5)]
        bulk = asyncio.create_task(client.post(f"{API}/bulk", json=[user(f"bulk{n}") for n in range(200)]))
        await waiting_on_a_lock(database, "drain-test", 6)

        service.terminate()
        assert await refuses_connections(service.base, within=grace / 3), "new connections still accepted"
        assert service.process.poll() is None  # still draining: the lock holds every request
        assert not any(task.done() for task in [*single, bulk])
        await locked_table.execute("ROLLBACK")  # the lock goes; the requests in flight go on
        released = time.monotonic()
        answers = await asyncio.gather(*single, bulk)

    status = await asyncio.to_thread(service.wait, 2 * grace)
    stopped_after = time.monotonic() - released
    output = service.output()
    assert [answer.status_code for answer in answers] == [201] * 6, output
    assert await fetchval(database, "SELECT count(*) FROM users") == 1 + 205  # and the first admin
    assert status == 0, output
    assert stopped_after < grace / 3, f"the process took {stopped_after:.1f} s to stop after its lock went"
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    assert (
        await fetchval(
            database, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'drain-test'"
        )
        == 0
    )


async def test_a_request_that_outlives_the_grace_period_is_cut_off_and_writes_nothing(
    tmp_path: Path,
    database: str,
    lock_users: Callable[[], Awaitable[asyncpg.Connection]],
    request: pytest.FixtureRequest,
) -> None:
    grace, close = 1, 1
    env = environment(
        database_url=database,
        application_name="grace-test",
        shutdown_timeout=str(grace),
        pool_close_timeout=str(close),
        **PATIENT,
    )
    service = await asyncio.to_thread(Service.start, tmp_path, env)
    request.addfinalizer(service.kill)  # a process that hangs is not left behind
    headers = await signed_in(service)
    locked_table = await lock_users()
    async with httpx.AsyncClient(base_url=service.base, timeout=15, headers=headers) as client:
        bulk = asyncio.create_task(client.post(f"{API}/bulk", json=[user(f"late{n}") for n in range(200)]))
        await waiting_on_a_lock(database, "grace-test", 1)
        terminated = time.monotonic()
        service.terminate()
        status = await asyncio.to_thread(service.wait, 30)  # with the lock still held
        stopped_after = time.monotonic() - terminated
        answer = await asyncio.gather(bulk, return_exceptions=True)
    await locked_table.execute("ROLLBACK")

    output = service.output()
    assert status == 0, output
    # It gave the request its grace period, then cut it off and closed the pool without waiting for
    # the lock (which the test holds until the process is gone: a hang would last until wait's limit).
    assert grace <= stopped_after < 4 * (grace + close), (
        f"grace {grace} s + pool close {close} s, but {stopped_after:.1f} s"
    )
    [cut_off] = answer
    assert isinstance(cut_off, httpx.Response), cut_off
    assert cut_off.status_code == 503
    assert cut_off.headers["retry-after"] == "1"
    assert cut_off.json()["code"] == "shutting_down"
    assert await fetchval(database, "SELECT count(*) FROM users") == 1  # the first admin alone
    assert "Traceback" not in output
