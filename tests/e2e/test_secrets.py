"""Secrets never show: not the database password, not a user's password, its hash, a token or the
Authorization header; not in a log line at debug level (text or JSON), an error or an HTTP answer."""

import asyncio
import json
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from tests.e2e.service import ADMIN, TOKEN_SECRET, Service, environment, users_api
from tests.postgres import SERVER_URL, fetchval, require_server

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
    with httpx.Client(base_url=service.base, timeout=10, headers=service.login()) as client:
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
        access = [record for record in records if record.get("route", "").startswith("/api/v1/users")]
        assert [record["status"] for record in access[:4]] == [201, 409, 422, 400]
        assert {"method", "route", "duration_ms"} <= set(access[0])


@pytest.mark.postgres
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_user_passwords_hashes_and_tokens_show_in_no_log_line_or_answer(
    tmp_path: Path, database: str, log_format: str
) -> None:
    # Revocation seen at once: the token used after the password change is refused.
    settings = {"log_level": "debug", "log_format": log_format, "token_revocation_delay": "0"}
    service = Service.start(tmp_path, environment(database_url=database, **settings))
    ada_password, new_password, wrong = (
        "ada's own password 1815",
        "ada's new password 1852",
        "a wrong guess!!",
    )
    admin = service.login()
    answers = []
    with httpx.Client(base_url=service.base, timeout=30) as client:
        user = {"username": "ada", "email": "ada@example.com", "password": ada_password}
        answers.append(client.post("/api/v1/users", json=user, headers=admin))
        answers.append(client.post("/api/v1/users", json={**user, "password": "short"}, headers=admin))
        grant = {"grant_type": "password", "username": "ada"}
        answers.append(client.post("/api/v1/auth/token", data={**grant, "password": wrong}))
        answers.append(client.post("/api/v1/auth/token", data={**grant, "password": ada_password}))
        ada = {"Authorization": f"Bearer {answers[-1].json()['access_token']}"}
        ada_id = answers[0].json()["id"]
        patch = {"password": new_password, "current_password": wrong}
        answers.append(client.patch(f"/api/v1/users/{ada_id}", json=patch, headers=ada))
        right = {**patch, "current_password": ada_password}
        answers.append(client.patch(f"/api/v1/users/{ada_id}", json=right, headers=ada))
        answers.append(client.get("/api/v1/users/me", headers=ada))  # revoked by the change: 401
        answers.append(client.get("/api/v1/users", headers={"Authorization": "Bearer " + wrong}))
        answers.append(client.get("/api/v1/users", headers=admin))
    stored = asyncio.run(fetchval(database, "SELECT password_hash FROM users WHERE username = 'ada'"))
    service.terminate()
    assert service.wait(15) == 0
    output = service.output()

    assert [answer.status_code for answer in answers] == [201, 422, 400, 200, 422, 200, 401, 401, 200]
    assert stored.startswith("$argon2id$")
    secrets = [ada_password, new_password, wrong, stored, admin["Authorization"], ada["Authorization"],
               admin["Authorization"].removeprefix("Bearer "), ada["Authorization"].removeprefix("Bearer "),
               ADMIN["password"], TOKEN_SECRET]  # fmt: skip
    for secret in secrets:
        assert secret not in output, secret[:12]
        for answer in answers[:3] + answers[4:]:  # the token's own answer carries the token, as it must
            assert secret not in answer.text, secret[:12]
            assert secret not in str(answer.headers), secret[:12]
    assert "argon2" not in output
    assert "argon2" not in "".join(answer.text for answer in answers)
    assert any("DEBUG" in line for line in output.splitlines())  # debug lines were written
