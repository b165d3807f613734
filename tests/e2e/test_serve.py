"""`users-api serve` as a real process: a client session, then SIGTERM and a clean exit."""

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

pytestmark = pytest.mark.e2e

COMMAND = Path(sys.executable).with_name("users-api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("USERS_")}
    process = subprocess.Popen(
        [str(COMMAND), "serve", "--port", str(port), "--log-level", "info"],
        cwd=tmp_path,  # no .env there
        env=environment,
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


def test_a_client_session_then_sigterm_exits_cleanly(server: tuple[subprocess.Popen[str], str]) -> None:
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
    assert f"API at {base}/api/v1/users, docs at {base}/docs, storage: memory" in output
    assert "Application shutdown complete" in output
    assert "Traceback" not in output
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base}/health/live", timeout=1)
