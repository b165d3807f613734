from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from bootstrap import Container, Settings, create_container
from entrypoints.http import create_app
from tests.postgres import empty

API = "/api/v1/users"


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
async def container(request: pytest.FixtureRequest) -> Container:
    """The real composition, on each storage; tests override its providers, nothing else."""
    if request.param == "memory":
        return create_container(Settings(_env_file=None))
    url: str = request.getfixturevalue("database_url")
    await empty(url)
    return create_container(Settings(_env_file=None, database_url=url, pool_min_size=1, pool_max_size=20))


# For a test that replaces the repository or a use case on the container: on PostgreSQL it would
# never reach the database, so it runs on memory alone rather than count as a PostgreSQL test.
memory_only = pytest.mark.parametrize("container", ["memory"], indirect=True)


@pytest.fixture
async def client(container: Container) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            yield client


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
