"""The PostgreSQL the tests run on: each session makes its own uniquely named database and drops it.

USERS_TEST_POSTGRES_URL names the server (default: the local one, user postgres, no password).
Without a reachable server the PostgreSQL tests skip, saying why; with USERS_TEST_REQUIRE_POSTGRES=1
(as in CI) they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg
import pytest

from adapters.postgres import describe, migrate
from adapters.postgres.admin import database_name, quote_identifier

SERVER_URL = os.environ.get("USERS_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRED = os.environ.get("USERS_TEST_REQUIRE_POSTGRES") == "1"
T = TypeVar("T")


async def fetchval(url: str, query: str, *arguments: object) -> Any:
    """One value from one query, on a connection of its own."""
    connection = await asyncpg.connect(url, timeout=5)
    try:
        return await connection.fetchval(query, *arguments)
    finally:
        await connection.close()


def in_own_thread(function: Callable[..., T], *arguments: Any) -> T:
    """Runs `function` on a thread of its own, where it may start an event loop (asyncio.run) even
    when a test's loop is running on this one. An exception (a skip included) comes back here."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(function, *arguments).result()


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def execute(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def require_server() -> None:
    """Skips the test (or fails it, in CI) when the test server does not answer."""
    try:
        asyncio.run(execute(SERVER_URL, "SELECT 1"))
    except (OSError, TimeoutError, asyncpg.PostgresError) as error:
        reason = f"no PostgreSQL at {describe(SERVER_URL)} ({type(error).__name__}: {error})"
        if REQUIRED:
            pytest.fail(f"{reason}, and USERS_TEST_REQUIRE_POSTGRES=1 requires one")
        pytest.skip(f"{reason}; set USERS_TEST_POSTGRES_URL to run the PostgreSQL tests")


def new_database_name(prefix: str = "users_test") -> str:
    return f"{prefix}_{uuid4().hex[:12]}"


def create_test_database() -> str:
    """A new, empty database on the test server."""
    require_server()
    name = new_database_name()
    asyncio.run(execute(SERVER_URL, f"CREATE DATABASE {quote_identifier(name)}"))
    return with_database(SERVER_URL, name)


def drop_test_database(url: str) -> None:
    name = database_name(url)  # unquoted, as create-db reads it
    asyncio.run(execute(SERVER_URL, f"DROP DATABASE IF EXISTS {quote_identifier(name)} WITH (FORCE)"))


def migrated_test_database() -> str:
    url = create_test_database()
    migrate(url)
    return url


async def empty(url: str) -> None:
    await execute(url, "TRUNCATE users, login_attempts, idempotency_keys")


async def waiting_on_a_lock(url: str, application_name: str, count: int, within: float = 10) -> None:
    """Returns once `count` statements of `application_name` wait on a lock; fails after `within` s."""
    deadline = time.monotonic() + within
    waiting = None
    while time.monotonic() < deadline:
        waiting = await fetchval(
            url,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
            application_name,
        )
        if waiting == count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{waiting} of {count} statements reached the lock within {within} s")
