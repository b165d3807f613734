from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bootstrap import Container, Settings, create_container
from domain.model import Profile, Role, User
from domain.sources import Uuid7Ids
from entrypoints.http import create_app
from tests.postgres import empty
from tests.sqlite import migrated_file

API = "/api/v1/users"
TOKEN = "/api/v1/auth/token"
# The settings every API test starts from: a fixed token secret, the cheapest real Argon2id, and
# revocation seen at once (the delay has tests of its own).
TESTING: dict[str, Any] = {
    "token_secret": "a token secret for the tests, 32+ bytes",
    "password_hash_time_cost": 1,
    "password_hash_memory_kib": 8,
    "token_revocation_delay": 0,
}
ADMIN = {"username": "admin", "email": "admin@example.com"}


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def container(request: pytest.FixtureRequest) -> Container:
    """The real composition, on each storage, with the test's `settings` marker over TESTING;
    tests override its providers, nothing else."""
    marker = request.node.get_closest_marker("settings")
    settings = {**TESTING, **(marker.kwargs if marker else {})}
    if request.param == "memory":
        return create_container(Settings(_env_file=None, database_url="memory://", **settings))
    if request.param == "sqlite":
        sqlite_url = migrated_file(request.getfixturevalue("tmp_path"))
        return create_container(Settings(_env_file=None, database_url=sqlite_url, **settings))
    url: str = request.getfixturevalue("database_url")
    await empty(url)
    return create_container(
        Settings(_env_file=None, database_url=url, pool_min_size=1, pool_max_size=20, **settings)
    )


# For a test that replaces the repository or a use case on the container: on PostgreSQL it would
# never reach the database, so it runs on memory alone rather than count as a PostgreSQL test.
memory_only = pytest.mark.parametrize("container", ["memory"], indirect=True)


# For a test that replaces the repository or a use case on the container: on PostgreSQL it would
# never reach the database, so it runs on memory alone rather than count as a PostgreSQL test.
memory_only = pytest.mark.parametrize("container", ["memory"], indirect=True)


@pytest.fixture
async def app(container: Container) -> AsyncIterator[FastAPI]:
    app = create_app(container)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app, without a token."""
    async with _client(app) as client:
        yield client


@pytest.fixture
async def client(container: Container, app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client acting as an admin: `admin`, stored as any user is (without a password: its token
    comes from the app's own signer), so that every request takes the real authentication path."""
    now = datetime.now(UTC)
    admin = User(Uuid7Ids()(), Profile.parse(ADMIN), now, now, role=Role.ADMIN)
    await container.repository().add(admin)
    async with _client(app, container.tokens().issue(admin).value) as client:
        yield client


def _client(app: FastAPI, token: str | None = None) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {} if token is None else bearer(token)
    return httpx.AsyncClient(transport=transport, base_url="http://localhost", headers=headers)


async def stored_names(client: httpx.AsyncClient) -> list[str]:
    """Every stored username, in creation order: the test client's own `admin` comes first."""
    body = (await client.get(API, params={"limit": 200, "include_total": "true"})).json()
    assert body["total"] <= 200, "stored_names reads one page"
    return [user["username"] for user in body["items"]]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, username: str, password: str) -> str:
    response = await client.post(
        TOKEN, data={"grant_type": "password", "username": username, "password": password}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Checks the RFC 9457 shape that every error shares, and returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"]
    body: dict[str, Any] = response.json()
    assert body["type"] == "/problems/" + code.replace("_", "-")
    assert (body["status"], body["code"]) == (status, code)
    assert body["title"]
    assert body["detail"]
    return body


async def register(client: httpx.AsyncClient, username: str, email: str | None = None, **fields: Any) -> Any:
    response = await client.post(
        API, json={"username": username, "email": email or f"{username}@example.com", **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()
