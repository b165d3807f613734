"""No acknowledged write is lost while the database connections die: a real server on PostgreSQL,
a bounded load of creates at concurrency 20, and meanwhile its connections killed by the server
(pg_terminate_backend) and its network path cut for two seconds."""

import asyncio
import itertools
import time
import uuid
from collections import Counter
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.service import ADMIN, Service, environment
from tests.integration.proxy import Proxy
from tests.postgres import SERVER_URL, fetchval

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

API = "/api/v1/users"
REQUESTS, CONCURRENCY = 2000, 20


def body(n: int) -> dict[str, str]:
    """Every tenth request takes the username of the one nine before it: a 409 if that one was stored."""
    name = n - 9 if n % 10 == 9 else n
    return {"username": f"user{name}", "email": f"mail{n}@example.com", "first_name": f"N°{n}"}


def behind(proxy: Proxy, database: str, name: str, **settings: str) -> dict[str, str]:
    """A service's settings for reaching `database` through `proxy`, which the test cuts: short
    waits, and a name its connections can be found (and killed) by."""
    return environment(
        database_url=proxy.route(database),
        application_name=name,
        pool_min_size="4",
        pool_max_size="10",
        pool_acquire_timeout="1",
        connect_timeout="1",
        **settings,
    )


async def kill_connections(application_name: str) -> int:
    killed: int = await fetchval(
        SERVER_URL,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
        application_name,
    )
    return killed


async def test_every_acknowledged_create_is_stored_once_while_connections_die(
    tmp_path: Path, database: str
) -> None:
    proxy, name = Proxy.to(database), f"faults-{uuid.uuid4().hex[:8]}"
    await proxy.start()
    env = behind(proxy, database, name)
    service = await asyncio.to_thread(Service.start, tmp_path, env)
    answers: dict[int, httpx.Response] = {}
    numbers = itertools.count()
    killed: list[int] = []
    lost: dict[int, str] = {}

    schedule = {300: "kill", 700: "cut", 1300: "kill"}  # after so many answers
    reached = {at: asyncio.Event() for at in schedule}

    async def client_loop(client: httpx.AsyncClient) -> None:
        while (n := next(numbers)) < REQUESTS:
            try:
                answers[n] = await client.post(API, json=body(n))
            except httpx.TransportError as error:  # the service must answer every request
                lost[n] = (
                    f"{type(error).__name__} {error!r} after {len(answers)} answers at {time.time():.3f}"
                )
            if event := reached.get(len(answers)):
                event.set()

    async def faults() -> None:
        for at, fault in schedule.items():
            await reached[at].wait()
            if fault == "kill":
                killed.append(await kill_connections(name))
            else:
                await proxy.cut()
                await asyncio.sleep(2)
                await proxy.start()

    try:
        limits = httpx.Limits(max_connections=CONCURRENCY)
        admin = await asyncio.to_thread(service.login)  # off the loop, which runs the proxy
        async with httpx.AsyncClient(
            base_url=service.base, timeout=30, limits=limits, headers=admin
        ) as client:
            await asyncio.gather(faults(), *(client_loop(client) for _ in range(CONCURRENCY)))
            # It recovers by itself: no restart.
            for _ in range(100):
                after = await client.post(API, json={"username": "after", "email": "after@example.com"})
                if after.status_code == 201:
                    break
                await asyncio.sleep(0.1)
            ready = await client.get("/health/ready")
        rows = {
            row["email"]: (str(row["id"]), row["username"], row["first_name"])
            for row in await fetch_all(database, "SELECT id, username, email, first_name FROM users")
        }
    finally:
        service.kill()
        await proxy.cut()

    statuses = Counter(answer.status_code for answer in answers.values())
    print(f"\n{REQUESTS} creates: {dict(statuses)}; connections killed: {killed}; rows stored: {len(rows)}")
    complaints = [line for line in service.output().splitlines() if "uvicorn" in line or " ERROR " in line]
    assert lost == {}, complaints
    assert set(statuses) <= {201, 409, 503}, statuses
    assert min(statuses[201], statuses[409], statuses[503]) > 0, statuses  # the faults did bite
    assert sum(killed) > 0
    acknowledged = {n: answer.json() for n, answer in answers.items() if answer.status_code == 201}
    for n, user in acknowledged.items():
        sent = body(n)
        assert rows.get(sent["email"]) == (user["id"], sent["username"], sent["first_name"])
    refused = {body(n)["email"] for n, answer in answers.items() if answer.status_code == 409}
    assert not refused & rows.keys()
    others = {"after@example.com", ADMIN["email"]}  # the probe after the faults, and the first admin
    assert rows.keys() - others <= {body(n)["email"] for n in range(REQUESTS)}
    # A 503 may have come after its commit (the answer was lost, not the write): those are extra rows.
    unacknowledged = len(rows) - len(others) - len(acknowledged)
    assert 0 <= unacknowledged <= statuses[503]
    assert after.status_code == 201
    assert ready.status_code == 200
    assert await fetchval(database, "SELECT count(DISTINCT username_key) FROM users") == len(rows)


async def fetch_all(url: str, query: str) -> list[dict[str, object]]:
    connection = await asyncpg.connect(url)
    try:
        return [dict(row) for row in await connection.fetch(query)]
    finally:
        await connection.close()


KEYED_REQUESTS, ATTEMPTS = 600, 100
LEASE = 3  # seconds a dead request's hold on its key lasts (its release may fail with the database)


def keyed_body(n: int) -> dict[str, str]:
    return {"username": f"keyed{n}", "email": f"keyed{n}@example.com"}


async def test_a_client_retrying_with_its_key_gets_each_user_stored_once_while_connections_die(
    tmp_path: Path, database: str
) -> None:
    """Every 503 and every cut connection is retried with the request's own Idempotency-Key, as
    are 409 idempotency_in_progress (after Retry-After): at the end each key has exactly one user,
    no retry met a 409 for its own earlier attempt other than "in progress", and every 201 names a
    stored user."""
    proxy, name = Proxy.to(database), f"retries-{uuid.uuid4().hex[:8]}"
    await proxy.start()
    env = behind(proxy, database, name, idempotency_lease=str(LEASE))
    service = await asyncio.to_thread(Service.start, tmp_path, env)
    front = Proxy.to(service.base)
    await front.start()
    seen: dict[int, list[str]] = {}  # every attempt's outcome, by request
    created: dict[int, httpx.Response] = {}
    numbers = itertools.count()
    killed: list[int] = []
    # After so many users acknowledged: the server's database connections killed, its path to the
    # database cut for 2 s, or the clients' connections to the server dropped (answers lost, their
    # writes done or not).
    schedule = {100: "kill", 150: "drop", 250: "cut", 350: "drop", 450: "kill", 500: "drop"}
    reached = {at: asyncio.Event() for at in schedule}

    async def send(client: httpx.AsyncClient, n: int) -> None:
        headers = {"Idempotency-Key": f"create-{n}-{name}"}
        outcomes = seen.setdefault(n, [])
        for _ in range(ATTEMPTS):
            try:
                answer = await client.post(API, json=keyed_body(n), headers=headers)
            except httpx.TransportError as error:
                outcomes.append(type(error).__name__)
                await asyncio.sleep(0.1)
                continue
            code = answer.json().get("code") if answer.status_code >= 400 else None
            outcomes.append(f"{answer.status_code} {code or ''}".strip())
            if answer.status_code == 201:
                created[n] = answer
                return
            if answer.status_code not in (409, 503) or code not in (
                "idempotency_in_progress",
                "storage_unavailable",
            ):
                return  # anything else is a failure of the test, below
            await asyncio.sleep(float(answer.headers["retry-after"]))

    async def client_loop(client: httpx.AsyncClient) -> None:
        while (n := next(numbers)) < KEYED_REQUESTS:
            await send(client, n)
            if event := reached.get(len(created)):
                event.set()

    async def faults() -> None:
        for at, fault in schedule.items():
            await reached[at].wait()
            if fault == "kill":
                killed.append(await kill_connections(name))
            elif fault == "cut":
                await proxy.cut()
                await asyncio.sleep(2)
                await proxy.start()
            else:
                await front.cut()
                await front.start()

    try:
        limits = httpx.Limits(max_connections=CONCURRENCY)
        admin = await asyncio.to_thread(service.login)
        base = f"http://127.0.0.1:{front.port}"
        async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits, headers=admin) as client:
            await asyncio.gather(faults(), *(client_loop(client) for _ in range(CONCURRENCY)))
        rows = {
            row["email"]: (str(row["id"]), row["username"])
            for row in await fetch_all(database, "SELECT id, username, email FROM users")
        }
        answered = await fetchval(database, "SELECT count(*) FROM idempotency_keys WHERE answer IS NOT NULL")
    finally:
        service.kill()
        await front.cut()
        await proxy.cut()

    outcomes = Counter(outcome for attempts in seen.values() for outcome in attempts)
    retried = sum(len(attempts) > 1 for attempts in seen.values())
    dropped = sum(any("Error" in outcome for outcome in attempts) for attempts in seen.values())
    print(
        f"\n{KEYED_REQUESTS} keyed creates, {retried} retried, {dropped} after a dropped connection:"
        f" {dict(outcomes)}; connections killed: {killed}"
    )
    assert sum(killed) > 0
    assert retried > 0, outcomes  # the faults did bite
    assert dropped > 0, outcomes
    complaints = [line for line in service.output().splitlines() if " ERROR " in line or "Error" in line]
    assert set(outcomes) <= {
        "201",
        "409 idempotency_in_progress",
        "503 storage_unavailable",
        "ReadError",
        "RemoteProtocolError",
        "ConnectError",
    }, (outcomes, complaints[:40])
    assert sorted(created) == list(range(KEYED_REQUESTS)), "every request ends in a 201 within its attempts"
    for n, answer in created.items():  # each key has its one user, the one its 201 names
        sent, user = keyed_body(n), answer.json()
        assert rows.get(sent["email"]) == (user["id"], sent["username"]), n
    assert len(rows) == KEYED_REQUESTS + 1  # and the first admin; no user twice
    assert answered == KEYED_REQUESTS
