from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import InMemoryLoginAttempts, InMemoryUserRepository
from adapters.memory_keys import InMemoryIdempotencyKeys
from adapters.postgres import (
    PoolOptions,
    PostgresIdempotencyKeys,
    PostgresLoginAttempts,
    PostgresUserRepository,
    open_pool,
)
from adapters.sqlite import SqliteIdempotencyKeys, SqliteLoginAttempts, SqliteUserRepository
from domain.model import Profile, Role, User
from domain.ports import IdempotencyKeys, LoginAttempts, UserRepository
from domain.sources import Uuid7Ids
from tests.postgres import empty
from tests.sqlite import migrated_file, open_store

T0 = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
_new_id = Uuid7Ids()
STORAGES = ["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=STORAGES)
async def repository(request: pytest.FixtureRequest) -> AsyncIterator[UserRepository]:
    """Every adapter of the port; the suite below must pass on each of them unchanged."""
    if request.param == "memory":
        yield InMemoryUserRepository()
        return
    if request.param == "sqlite":
        async with open_store(migrated_file(request.getfixturevalue("tmp_path"))) as store:
            yield SqliteUserRepository(store)
        return
    url: str = request.getfixturevalue("database_url")
    await empty(url)
    async with open_pool(url, PoolOptions(min_size=1, max_size=25)) as pool:
        yield PostgresUserRepository(pool, acquire_timeout=5)


@pytest.fixture(params=STORAGES)
async def keyed(request: pytest.FixtureRequest) -> AsyncIterator[tuple[UserRepository, IdempotencyKeys]]:
    """A repository and the idempotency keys it completes, on one store."""
    if request.param == "memory":
        keys = InMemoryIdempotencyKeys()
        yield InMemoryUserRepository(keys), keys
        return
    if request.param == "sqlite":
        async with open_store(migrated_file(request.getfixturevalue("tmp_path"))) as store:
            yield SqliteUserRepository(store), SqliteIdempotencyKeys(store)
        return
    url: str = request.getfixturevalue("database_url")
    await empty(url)
    async with open_pool(url, PoolOptions(min_size=1, max_size=25)) as pool:
        yield (
            PostgresUserRepository(pool, acquire_timeout=5),
            PostgresIdempotencyKeys(pool, acquire_timeout=5),
        )


@pytest.fixture(params=STORAGES)
async def login_attempts(request: pytest.FixtureRequest) -> AsyncIterator[LoginAttempts]:
    if request.param == "memory":
        yield InMemoryLoginAttempts()
        return
    if request.param == "sqlite":
        async with open_store(migrated_file(request.getfixturevalue("tmp_path"))) as store:
            yield SqliteLoginAttempts(store)
        return
    url: str = request.getfixturevalue("database_url")
    await empty(url)
    async with open_pool(url, PoolOptions(min_size=1, max_size=5)) as pool:
        yield PostgresLoginAttempts(pool, acquire_timeout=5)


def a_user(
    username: str,
    email: str | None = None,
    *,
    seconds: float = 0,
    role: Role = Role.MEMBER,
    password_hash: str | None = None,
    **names: str | None,
) -> User:
    moment = T0 + timedelta(seconds=seconds)
    profile = Profile.parse({"username": username, "email": email or f"{username}@example.com", **names})
    return User(_new_id(), profile, moment, moment, role=role, password_hash=password_hash)
