"""`users-api serve` as a real process: started on a free port, its output in a file (a pipe left
unread would block a server logging at debug level), stopped by a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

COMMAND = Path(sys.executable).with_name("users-api")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# Every server of these tests has this first admin, and signs its tokens with this secret.
ADMIN = {"username": "admin", "email": "admin@example.com", "password": "the e2e admin's password"}
TOKEN_SECRET = "the e2e tests' token secret, 32 bytes or more"


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without any USERS_ setting of the developer's, plus `settings`."""
    clean = {key: value for key, value in os.environ.items() if not key.startswith("USERS_")}
    return clean | {f"USERS_{name.upper()}": value for name, value in settings.items()}


def serving(env: dict[str, str]) -> dict[str, str]:
    """`env` with the servers' first admin and token secret, unless it sets its own."""
    first_admin = {f"first_admin_{name}": value for name, value in ADMIN.items()}
    ours = {
        f"USERS_{name.upper()}": value
        for name, value in {"token_secret": TOKEN_SECRET, **first_admin}.items()
    }
    return ours | env


def users_api(
    *arguments: str, cwd: Path, env: dict[str, str], input: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(COMMAND), *arguments],
        cwd=cwd,
        env=env,
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@dataclass
class Service:
    process: subprocess.Popen[bytes]
    base: str
    log: Path

    @classmethod
    def start(cls, workdir: Path, env: dict[str, str], *options: str) -> Service:
        """Serves from `workdir` (no .env there) and returns once /health/live answers."""
        port = free_port()
        log = workdir / f"serve-{port}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [str(COMMAND), "serve", "--port", str(port), *options],
                cwd=workdir,
                env=serving(env),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        service = cls(process, f"http://127.0.0.1:{port}", log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{service.base}/health/live", timeout=1).status_code == 200:
                    return service
            except httpx.TransportError:
                time.sleep(0.1)
        service.kill()
        pytest.fail(f"the server did not start:\n{service.output()}")

    def login(self, username: str = ADMIN["username"], password: str = ADMIN["password"]) -> dict[str, str]:
        """Headers that carry a token of this user, from the token endpoint."""
        data = {"grant_type": "password", "username": username, "password": password}
        answer = httpx.post(f"{self.base}/api/v1/auth/token", data=data, timeout=30)
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def terminate(self) -> None:
        self.process.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
