"""`users-api serve --workers N`: one port, N processes, each with its own pool; metrics counted
across all of them; SIGTERM drains every worker."""

import asyncio
import os
import re
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict, mmap_key

from tests.e2e.service import Service, environment, users_api
from tests.postgres import fetchval, waiting_on_a_lock

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

API = "/api/v1/users"
REQUESTS_TOTAL = "users_api_http_requests_total"


def counted(exposition: str, method: str, route: str, status: int) -> float:
    """The value of one series of the request counter in a scrape (0 when absent)."""
    labels = f'method="{method}",route="{route}",status="{status}"'
    found = re.search(rf"^{REQUESTS_TOTAL}\{{{re.escape(labels)}\}} (\S+)$", exposition, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def start(tmp_path: Path, env: dict[str, str], workers: int) -> Service:
    """`serve --workers`, once every worker has started (the first to start answers the probe of
    Service.start; another may still be making its pool, or looking for the first admin)."""
    service = Service.start(tmp_path, env, "--workers", str(workers))
    deadline = time.monotonic() + 60
    while service.output().count("Application startup complete") < workers:
        if time.monotonic() > deadline or service.process.poll() is not None:
            service.kill()
            pytest.fail(f"not every worker started:\n{service.output()}")
        time.sleep(0.1)
    return service


def stale_count(directory: Path, pid: int, value: float) -> None:
    """A count left in the metrics directory by a worker of an earlier run."""
    directory.mkdir(parents=True, exist_ok=True)
    stale = MmapedDict(str(directory / f"counter_{pid}.db"))  # type: ignore[no-untyped-call]
    labels = ["method", "route", "status"]
    key = mmap_key(
        "users_api_http_requests", REQUESTS_TOTAL, labels, ["GET", "/health/live", "200"], "HTTP requests"
    )
    stale.write_value(key, value, 0.0)  # type: ignore[no-untyped-call]
    stale.close()  # type: ignore[no-untyped-call]


def test_a_counter_reads_every_request_answered_by_any_of_two_workers(tmp_path: Path, database: str) -> None:
    metrics_dir = tmp_path / "metrics"
    stale_count(metrics_dir, 4242, 500)
    env = environment(database_url=database) | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    service = start(tmp_path, env, 2)
    try:
        # A new connection for every request: the kernel hands each to whichever worker accepts it.
        fresh = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=service.base, limits=fresh, timeout=10) as client:
            before = counted(client.get("/metrics").text, "GET", "/health/live", 200)
            answers = [client.get("/health/live").status_code for _ in range(1000)]
            scrapes = [client.get("/metrics").text for _ in range(6)]
        writers = sorted(path.name for path in metrics_dir.glob("counter_*.db"))
    finally:
        service.terminate()
        status = service.wait(30)

    assert answers == [200] * 1000
    assert 1 <= before < 10  # the start's probes: the stale 500 were swept away
    assert [counted(scrape, "GET", "/health/live", 200) for scrape in scrapes] == [before + 1000] * 6
    assert len(writers) == 2, f"two workers should have counted, found {writers}"
    assert all(counted(scrape, "GET", "/metrics", 200) >= 1 for scrape in scrapes)
    assert status == 0, service.output()


def test_the_workers_share_the_pool_budget_and_the_token_secret(tmp_path: Path, database: str) -> None:
    env = environment(
        database_url=database, application_name="budget-test", pool_min_size="4", database_pool_budget="6"
    )
    # No token secret: `serve` makes one for all its workers.
    service = start(tmp_path, env | {"USERS_TOKEN_SECRET": ""}, 3)
    try:
        fresh = httpx.Limits(max_keepalive_connections=0)
        headers = service.login()
        with httpx.Client(base_url=service.base, limits=fresh, timeout=10, headers=headers) as client:
            # A token one worker issued is accepted by every worker.
            answers = [client.get(f"{API}/me").status_code for _ in range(60)]
            scrape = client.get("/metrics").text
        connections = asyncio.run(
            fetchval(database, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'budget-test'")
        )
    finally:
        service.terminate()
        status = service.wait(30)

    assert answers == [200] * 60
    assert "3 workers, each with a pool of at most 2 connections (6 in all)" in service.output()
    assert connections <= 6
    assert "users_api_pool_max_connections 6.0" in scrape
    assert status == 0, service.output()


def test_workers_are_refused_without_a_database(tmp_path: Path) -> None:
    refused = users_api("serve", "--workers", "2", cwd=tmp_path, env=environment())

    assert refused.returncode == 1
    assert "--workers needs a PostgreSQL USERS_DATABASE_URL" in refused.stderr


def workers_of(parent: int) -> list[int]:
    """The worker processes of `serve` (its children but multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                command = (entry / "cmdline").read_bytes()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(stat[1]) == parent and b"resource_tracker" not in command:
                found.append(int(entry.name))
    return found


def owner_of_port(port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the TCP socket bound to local port `port` (from /proc/net/tcp)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) in inodes:
                    return pid
            except FileNotFoundError:
                continue
    return None


async def test_sigterm_lets_the_requests_in_flight_on_every_worker_finish(
    tmp_path: Path,
    database: str,
    lock_users: Callable[[], Awaitable[asyncpg.Connection]],
    request: pytest.FixtureRequest,
) -> None:
    grace = 30
    env = environment(
        database_url=database,
        application_name="workers-drain",
        shutdown_timeout=str(grace),
        command_timeout="60",
        statement_timeout="60",
    )
    service = await asyncio.to_thread(start, tmp_path, env, 2)
    request.addfinalizer(service.kill)
    headers = await asyncio.to_thread(service.login)
    locked_table = await lock_users()
    fresh = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(
        base_url=service.base, timeout=2 * grace, headers=headers, limits=fresh
    ) as client:
        # Requests one at a time, each held by the lock, until both workers hold some: a burst of
        # connections may all be accepted by one worker (its loop accepts what is pending at once).
        workers = workers_of(service.process.pid)
        creates: list[asyncio.Task[httpx.Response]] = []
        holding: set[int | None] = set()
        for n in range(16):  # each worker's pool has 10 connections
            body = {"username": f"worker{n}", "email": f"worker{n}@example.com"}
            creates.append(asyncio.create_task(client.post(API, json=body)))
            await waiting_on_a_lock(database, "workers-drain", len(creates))
            ports = await fetchval(
                database,
                "SELECT array_agg(client_port) FROM pg_stat_activity"
                " WHERE application_name = 'workers-drain' AND wait_event_type = 'Lock'",
            )
            holding = {owner_of_port(port, workers) for port in ports}
            if len(creates) >= 4 and holding == set(workers):
                break
        service.terminate()
        await asyncio.sleep(1)
        assert service.process.poll() is None  # still draining: the lock holds every request
        assert not any(task.done() for task in creates)
        await locked_table.execute("ROLLBACK")
        released = time.monotonic()
        answers = await asyncio.gather(*creates)

    status = await asyncio.to_thread(service.wait, 2 * grace)
    output = service.output()
    assert len(workers) == 2
    assert holding == set(workers), "both workers should have had requests in flight"
    assert [answer.status_code for answer in answers] == [201] * len(creates), output
    assert await fetchval(database, "SELECT count(*) FROM users") == 1 + len(creates)
    assert status == 0, output
    assert time.monotonic() - released < grace / 3
    assert output.count("Application shutdown complete") == 2, output


def test_a_worker_that_dies_is_replaced_and_its_counts_are_kept(tmp_path: Path, database: str) -> None:
    metrics_dir = tmp_path / "metrics"
    env = environment(database_url=database) | {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    service = start(tmp_path, env, 2)
    try:
        fresh = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=service.base, limits=fresh, timeout=10) as client:
            before = counted(client.get("/metrics").text, "GET", "/health/live", 200)
            first = [client.get("/health/live").status_code for _ in range(200)]
            victim, survivor = workers_of(service.process.pid)
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while service.output().count("Application startup complete") < 3:  # its replacement
                assert time.monotonic() < deadline, service.output()
                time.sleep(0.1)
            second = [client.get("/health/live").status_code for _ in range(200)]
            scrapes = [counted(client.get("/metrics").text, "GET", "/health/live", 200) for _ in range(4)]
            now = workers_of(service.process.pid)
    finally:
        service.terminate()
        status = service.wait(30)

    assert first == second == [200] * 200
    assert survivor in now
    assert victim not in now
    assert len(now) == 2
    # The dead worker's counts stay in the directory; the requests it answered are still counted.
    assert (metrics_dir / f"counter_{victim}.db").exists(), "the killed worker had counted requests"
    assert scrapes == [before + 400] * 4
    assert status == 0, service.output()
