"""`users-api` as a real process: a client session, then SIGTERM and a clean exit; on PostgreSQL,
`create-db` and `migrate` first, on a database made for the test."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.postgres import describe
from tests.postgres import SERVER_URL, drop_test_database, new_database_name, require_server, with_database

pytestmark = pytest.mark.e2e

COMMAND = Path(sys.executable).with_name("users-api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any USERS_ setting of the developer's, plus `settings`."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("USERS_")}
    return clean | {f"USERS_{name.upper()}": value for name, value in settings.items()}


def users_api(*arguments: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture(params=["memory", pytest.param("postgres", marks=pytest.mark.postgres)])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment to serve with: nothing for memory; a created and migrated database for postgres."""
    if request.param == "memory":
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
def server(tmp_path: Path, storage: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    process = subprocess.Popen(
        [str(COMMAND), "serve", "--port", str(port), "--log-level", "info"],
        cwd=tmp_path,  # no .env there
        env=storage,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail(f"the server did not start:\n{process.communicate()[0]}")
    yield process, base
    if process.poll() is None:
        process.kill()
        process.wait()


def test_a_client_session_then_sigterm_exits_cleanly(
    server: tuple[subprocess.Popen[str], str], storage: dict[str, str]
) -> None:
    process, base = server
    with httpx.Client(base_url=base, timeout=5) as client:
        created = client.post("/api/v1/users", json={"username": "ada", "email": "ada@example.com"})
        assert created.status_code == 201
        assert client.get(created.headers["location"]).json() == created.json()
        assert (
            client.post("/api/v1/users", json={"username": "ADA", "email": "x@example.com"}).status_code
            == 409
        )
        listed = client.get("/api/v1/users", params={"include_total": "true"}).json()
        assert (listed["total"], listed["items"]) == (1, [created.json()])
        assert client.get("/health/ready").status_code == 200
        assert "server" not in created.headers

    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=15)

    assert process.returncode == 0, output
    kind = "postgres" if "USERS_DATABASE_URL" in storage else "memory"
    assert f"API at {base}/api/v1/users, docs at {base}/docs, storage: {kind}" in output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health/live", timeout=1)
