"""`users-api` as a real process: a client session, then SIGTERM and a clean exit; on PostgreSQL,
`create-db` and `migrate` first, on a database made for the test."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.postgres import describe
from tests.e2e.service import Service, environment, users_api
from tests.postgres import SERVER_URL, drop_test_database, new_database_name, require_server, with_database

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment to serve with: memory://; nothing for the default, ./users.db (made and
    migrated by serve); a created and migrated database for postgres."""
    if request.param == "memory":
        yield environment(database_url="memory://")
        return
    if request.param == "sqlite":
        yield environment()
        return
    require_server()
    url = with_database(SERVER_URL, new_database_name())
    env = environment(database_url=url)
    try:
        assert users_api("serve", cwd=tmp_path, env=env).returncode == 1  # no database yet: refused
        created = users_api("create-db", cwd=tmp_path, env=env)
        assert (created.returncode, created.stdout) == (0, f"users-api: {describe(url)} created\n")
        refused = users_api("serve", cwd=tmp_path, env=env)
        assert refused.returncode == 1
        assert "no schema yet (run `users-api migrate`" in refused.stderr
        migrated = users_api("migrate", cwd=tmp_path, env=env)
        assert migrated.returncode == 0, migrated.stderr
        yield env
    finally:
        drop_test_database(url)


@pytest.fixture
def server(tmp_path: Path, storage: dict[str, str]) -> Iterator[Service]:
    service = Service.start(tmp_path, storage, "--log-level", "info")
    yield service
    service.kill()


def test_a_client_session_then_sigterm_exits_cleanly(server: Service, storage: dict[str, str]) -> None:
    base = server.base
    with httpx.Client(base_url=base, timeout=5, headers=server.login()) as client:
        created = client.post("/api/v1/users", json={"username": "ada", "email": "ada@example.com"})
        assert created.status_code == 201
        assert client.get(created.headers["location"]).json() == created.json()
        assert (
            client.post("/api/v1/users", json={"username": "ADA", "email": "x@example.com"}).status_code
            == 409
        )
        listed = client.get("/api/v1/users", params={"include_total": "true"}).json()
        admin = client.get("/api/v1/users/me").json()
        assert (listed["total"], listed["items"]) == (2, [admin, created.json()])
        assert client.get("/health/ready").status_code == 200
        assert "server" not in created.headers

    server.terminate()
    status = server.wait(timeout=15)
    output = server.output()

    assert status == 0, output
    url = storage.get("USERS_DATABASE_URL", "sqlite:///users.db")
    kind = url.split(":")[0].replace("postgresql", "postgres")
    assert f"API at {base}/api/v1/users, docs at {base}/docs, storage: {kind}" in output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health/live", timeout=1)
