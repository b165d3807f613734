"""What a SQLite file adds: one writer at a time, within a process (the store's writer thread) and
across processes (the file's lock), and a write that waits too long for it."""

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.sqlite import SqliteUserRepository, StoreOptions
from bootstrap import Settings, create_container
from domain.errors import StorageUnavailable
from domain.model import Profile, Role, User
from domain.sources import Uuid7Ids
from entrypoints.http import create_app
from tests.api.conftest import ADMIN, API, TESTING, assert_problem
from tests.sqlite import migrated_file, open_store, query

WAIT = 0.5  # seconds a write waits for its turn: what these tests are about
SAME = ["same@example.com", "SAME@example.com", "Same@Example.COM", "same@EXAMPLE.com", "sAmE@example.com"]


@asynccontextmanager
async def serving(url: str, admin: User, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The real app on the SQLite file `url`, as `admin`, inside its lifespan."""
    container = create_container(Settings(_env_file=None, database_url=url, **{**TESTING, **settings}))
    app = create_app(container)
    async with app.router.lifespan_context(app):
        headers = {"Authorization": f"Bearer {container.tokens().issue(admin).value}"}
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://localhost", headers=headers
        ) as client:
            yield client


async def a_file_with_an_admin(tmp_path: Path) -> tuple[str, User]:
    url = migrated_file(tmp_path)
    now = datetime.now(UTC)
    admin = User(Uuid7Ids()(), Profile.parse(ADMIN), now, now, role=Role.ADMIN)
    async with open_store(url) as store:
        await SqliteUserRepository(store).add(admin)
    return url, admin


async def test_fifty_concurrent_creates_of_one_email_give_one_201_and_49_409s(tmp_path: Path) -> None:
    url, admin = await a_file_with_an_admin(tmp_path)
    async with serving(url, admin, pool_acquire_timeout=30) as client:
        responses = await asyncio.gather(
            *(
                client.post(API, json={"username": f"user{index}", "email": SAME[index % len(SAME)]})
                for index in range(50)
            )
        )

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 49, statuses
    for response in responses:
        if response.status_code == 409:
            assert assert_problem(response, 409, "user_conflict")["conflicts"] == [{"field": "email"}]
    assert query(url, "SELECT count(*) FROM users WHERE email_key = 'same@example.com'") == [(1,)]


async def test_two_processes_on_one_file_racing_give_one_201_and_the_rest_409s(tmp_path: Path) -> None:
    """Two stores (two writer connections, as two processes have) take turns on the file's lock."""
    url, admin = await a_file_with_an_admin(tmp_path)
    async with (
        serving(url, admin, pool_acquire_timeout=30) as first,
        serving(url, admin, pool_acquire_timeout=30) as second,
    ):
        responses = await asyncio.gather(
            *(
                (first if index % 2 else second).post(
                    API, json={"username": f"user{index}", "email": SAME[index % len(SAME)]}
                )
                for index in range(50)
            )
        )

    assert sorted(response.status_code for response in responses) == [201] + [409] * 49
    assert query(url, "SELECT count(*) FROM users WHERE email_key = 'same@example.com'") == [(1,)]


async def test_a_write_that_waits_too_long_for_the_file_is_a_503_with_retry_after(tmp_path: Path) -> None:
    url, admin = await a_file_with_an_admin(tmp_path)
    async with serving(url, admin, pool_acquire_timeout=WAIT) as client:
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        try:
            started = time.monotonic()
            response = await client.post(API, json={"username": "ada", "email": "ada@example.com"})
            elapsed = time.monotonic() - started
            read = await client.get(API)  # reads go on
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        assert_problem(response, 503, "storage_unavailable")
        assert response.headers["retry-after"] == "1"
        assert WAIT <= elapsed < 8 * WAIT, f"{elapsed:.2f} s for a {WAIT} s write timeout"
        assert read.status_code == 200
        # Released: the same request succeeds (the one that timed out was never written).
        retried = await client.post(API, json={"username": "ada", "email": "ada@example.com"})
        assert retried.status_code == 201, retried.text
    assert query(url, "SELECT count(*) FROM users WHERE username_key = 'ada'") == [(1,)]


async def test_a_write_given_up_while_the_file_was_locked_never_runs_once_it_is_free(tmp_path: Path) -> None:
    """A 503 for waiting too long means not written: the write does not run late, after the lock
    that held it back is released while the writer was still waiting for it."""
    url = migrated_file(tmp_path)
    ran: list[str] = []
    async with open_store(url, StoreOptions(write_timeout=WAIT)) as store:
        holder = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(StorageUnavailable):
                await store.write(lambda connection: ran.append("late"))
        finally:
            holder.execute("ROLLBACK")  # the writer, still waiting for the lock, now gets it
            holder.close()
        await store.write(lambda connection: ran.append("next"))

    assert ran == ["next"]
