"""The database password never shows: not in a log line at debug level (text or JSON), not in an
error, not in an HTTP answer, whether the database refuses it or accepts it."""

import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.e2e.service import Service, environment, users_api
from tests.postgres import SERVER_URL, require_server

pytestmark = pytest.mark.e2e

PASSWORD = "pw-Kq7vX2-secret"


def with_credentials(url: str, user: str, netloc: str | None = None) -> str:
    parts = urlsplit(url)
    host = netloc or f"{parts.hostname}:{parts.port or 5432}"
    return urlunsplit(parts._replace(netloc=f"{user}:{PASSWORD}@{host}"))


@pytest.mark.parametrize(
    ("case", "command"),
    [
        pytest.param("unknown role", "serve", marks=pytest.mark.postgres),
        pytest.param("unknown role", "migrate", marks=pytest.mark.postgres),
        pytest.param("unknown role", "create-db", marks=pytest.mark.postgres),
        ("unreachable", "serve"),  # these are refused before any server is asked
        ("port not a number", "serve"),
        ("port not a number", "migrate"),
        ("not postgresql", "serve"),
    ],
)
def test_a_refused_password_shows_in_no_output(tmp_path: Path, case: str, command: str) -> None:
    if case == "unknown role":
        require_server()  # the server itself must refuse it
    url = {
        "unknown role": with_credentials(SERVER_URL, "no_such_role"),
        "unreachable": with_credentials(SERVER_URL, "postgres", "127.0.0.1:1"),
        "port not a number": with_credentials(SERVER_URL, "postgres", "127.0.0.1:x5432"),
        "not postgresql": with_credentials(SERVER_URL, "postgres").replace("postgresql", "mysql", 1),
    }[case]
    env = environment(database_url=url, log_level="debug", start_timeout="1")
    result = users_api(command, cwd=tmp_path, env=env)
    assert result.returncode != 0
    assert result.stderr.strip()  # it says why
    assert PASSWORD not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.postgres
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_accepted_password_shows_in_no_log_line_or_answer(
    tmp_path: Path, database: str, log_format: str
) -> None:
    # The test server trusts local connections, so any password is accepted, and the driver sends it.
    url = with_credentials(database, urlsplit(SERVER_URL).username or "postgres")
    env = environment(database_url=url, log_level="debug", log_format=log_format)
    service = Service.start(tmp_path, env)
    answers = []
    with httpx.Client(base_url=service.base, timeout=10) as client:
        for _ in range(2):
            answers.append(client.post("/api/v1/users", json={"username": "ada", "email": "ada@example.com"}))
        answers.append(client.post("/api/v1/users", json={"username": "x", "email": PASSWORD}))
        answers.append(client.get("/api/v1/users", params={"cursor": PASSWORD}))
        answers.append(client.get("/health/ready"))
        answers.append(client.get("/metrics"))
        answers.append(client.get("/openapi.json"))
    service.terminate()
    assert service.wait(15) == 0
    output = service.output()

    assert [answer.status_code for answer in answers] == [201, 409, 422, 400, 200, 200, 200]
    assert all(PASSWORD not in answer.text and PASSWORD not in str(answer.headers) for answer in answers)
    assert PASSWORD not in output
    lines = output.splitlines()[1:]  # after the command's own banner
    name = urlsplit(database).path.lstrip("/")
    assert any("DEBUG" in line and name in line for line in lines)  # the URL was logged, without it
    if log_format == "json":
        records = [json.loads(line) for line in lines]
        assert {"level", "logger", "message", "time", "request_id"} <= set(records[0])
        access = [record for record in records if record.get("route", "").startswith("/api/v1")]
        assert [record["status"] for record in access[:4]] == [201, 409, 422, 400]
        assert {"method", "route", "duration_ms"} <= set(access[0])
