"""Accounts across real processes: the first admin, the login limit shared by two servers on one
database, and a server that keeps answering while it hashes."""

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.service import Service, environment, users_api

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

PASSWORD = "correct horse battery"
SECRET = "one token secret shared by every process"
TOKEN = "/api/v1/auth/token"


def grant(username: str, password: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password}


def settings(database: str, **more: str) -> dict[str, str]:
    first_admin = {"username": "root", "email": "root@example.com", "password": PASSWORD}
    return environment(
        database_url=database,
        token_secret=SECRET,
        log_level="warning",
        **{f"first_admin_{name}": value for name, value in first_admin.items()} | more,
    )


def test_create_admin_reads_the_password_from_stdin_and_refuses_a_taken_name(
    tmp_path: Path, database: str
) -> None:
    env = environment(database_url=database)
    arguments = ("create-admin", "--username", "boss", "--email", "boss@example.com", "--password-stdin")

    created = users_api(*arguments, cwd=tmp_path, env=env, input=f"{PASSWORD}\n")
    again = users_api(*arguments, cwd=tmp_path, env=env, input=f"{PASSWORD}\n")
    short = users_api("create-admin", "--username", "b2", "--email", "b2@example.com", "--password-stdin",
                      cwd=tmp_path, env=env, input="short\n")  # fmt: skip

    assert (created.returncode, created.stdout.strip()) == (0, "users-api: created the admin boss")
    assert again.returncode == 1
    assert again.stderr.strip().splitlines() == ["users-api: the username and email is taken by another user"]
    assert short.returncode == 1
    assert "password must be 12 to 128 characters" in short.stderr
    assert PASSWORD not in created.stdout + created.stderr + again.stdout + again.stderr
    service = Service.start(tmp_path, environment(database_url=database, token_secret=SECRET))
    try:
        answer = httpx.post(f"{service.base}{TOKEN}", data=grant("BOSS", PASSWORD), timeout=10)
        assert answer.status_code == 200, answer.text
    finally:
        service.kill()


def test_the_first_admin_is_made_once_and_never_changed(tmp_path: Path, database: str) -> None:
    first = Service.start(tmp_path, settings(database))
    try:
        assert httpx.post(f"{first.base}{TOKEN}", data=grant("root", PASSWORD), timeout=10).status_code == 200
    finally:
        first.kill()
    other = settings(database, first_admin_password="another password, ignored")
    second = Service.start(tmp_path, other)
    try:
        assert (
            httpx.post(f"{second.base}{TOKEN}", data=grant("root", PASSWORD), timeout=10).status_code == 200
        )
        refused = httpx.post(
            f"{second.base}{TOKEN}", data=grant("root", "another password, ignored"), timeout=10
        )
        assert refused.status_code == 400
    finally:
        second.kill()


def test_the_login_limit_holds_across_two_servers_on_one_database(tmp_path: Path, database: str) -> None:
    one = Service.start(tmp_path, settings(database))
    two = Service.start(tmp_path, settings(database))
    try:
        for service in [one, two, one, two, one]:
            wrong = httpx.post(f"{service.base}{TOKEN}", data=grant("root", "wrong password!"), timeout=10)
            assert wrong.status_code == 400
        for service in [two, one]:
            refused = httpx.post(f"{service.base}{TOKEN}", data=grant("root", PASSWORD), timeout=10)
            assert refused.status_code == 429
            assert 890 <= int(refused.headers["retry-after"]) <= 900
    finally:
        one.kill()
        two.kill()


def test_the_server_keeps_answering_while_twenty_logins_hash(tmp_path: Path, database: str) -> None:
    service = Service.start(tmp_path, settings(database))  # the shipped hashing cost

    async def load() -> tuple[list[int], list[float]]:
        # Two clients: the probe's connection is open before the logins come, as a load balancer's is.
        async with (
            httpx.AsyncClient(base_url=service.base, timeout=30) as client,
            httpx.AsyncClient(base_url=service.base, timeout=30) as probe,
        ):
            assert (await probe.get("/health/live")).status_code == 200
            logins = [
                asyncio.create_task(client.post(TOKEN, data=grant("root", PASSWORD))) for _ in range(20)
            ]
            pauses = []
            while not all(login.done() for login in logins):
                started = time.perf_counter()
                assert (await probe.get("/health/live")).status_code == 200
                pauses.append(time.perf_counter() - started)
                await asyncio.sleep(0.02)
            return [(await login).status_code for login in logins], pauses

    try:
        statuses, pauses = asyncio.run(load())
    finally:
        service.kill()
    assert statuses == [200] * 20
    assert len(pauses) >= 5  # the logins took a while: the server was hashing while it answered
    assert max(pauses) < 0.1, sorted(pauses)[-5:]
