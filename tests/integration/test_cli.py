"""The operator's commands, in-process: what they do to the server, and what they say."""

import asyncio
import os
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from typer.testing import CliRunner

from adapters.schema.history import head
from adapters.sqlite import revision
from bootstrap import CliActions
from entrypoints.cli import build_cli
from tests.postgres import (
    SERVER_URL,
    drop_test_database,
    fetchval,
    new_database_name,
    require_server,
    with_database,
)

cli = build_cli(CliActions())


@pytest.fixture(autouse=True)
def no_settings_of_the_developer(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    for name in [name for name in os.environ if name.startswith("USERS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env


def database_exists(name: str) -> bool:
    return bool(asyncio.run(fetchval(SERVER_URL, "SELECT 1 FROM pg_database WHERE datname = $1", name)))


@pytest.mark.postgres
def test_create_db_makes_a_database_whose_name_needs_quoting_once(monkeypatch: pytest.MonkeyPatch) -> None:
    require_server()
    name = new_database_name('users "odd"; DROP DATABASE postgres; --')
    url = with_database(SERVER_URL, name.replace('"', "%22").replace(" ", "%20").replace(";", "%3B"))
    monkeypatch.setenv("USERS_DATABASE_URL", url)
    try:
        first = CliRunner().invoke(cli, ["create-db"])
        second = CliRunner().invoke(cli, ["create-db"])

        assert first.exit_code == 0, first.output
        assert first.output.endswith(" created\n")
        assert second.exit_code == 0
        assert second.output.endswith(" exists already\n")
        assert database_exists(name)
        assert database_exists("postgres")
    finally:
        drop_test_database(url)
    assert not database_exists(name)


def test_serve_gives_up_on_an_unreachable_database_with_one_clear_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USERS_DATABASE_URL", "postgresql://app:hunter2@127.0.0.1:1/users")
    monkeypatch.setenv("USERS_START_TIMEOUT", "1")

    started = time.monotonic()
    result = CliRunner().invoke(cli, ["serve"])
    elapsed = time.monotonic() - started

    assert result.exit_code == 1
    assert result.output.startswith("users-api: postgresql://app@127.0.0.1:1/users did not answer within 1 s")
    assert "hunter2" not in result.output
    assert 0.9 < elapsed < 5


@pytest.mark.postgres
def test_serve_refuses_an_unknown_role_at_once_without_showing_its_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    require_server()
    role = new_database_name("users_nobody")  # the test server trusts any password, not any role
    server = urlsplit(SERVER_URL)
    netloc = f"{role}:hunter2@{server.hostname}:{server.port or 5432}"
    monkeypatch.setenv("USERS_DATABASE_URL", urlunsplit(server._replace(netloc=netloc)))
    monkeypatch.setenv("USERS_START_TIMEOUT", "30")

    started = time.monotonic()
    result = CliRunner().invoke(cli, ["serve"])

    assert result.exit_code == 1
    assert f'refused: InvalidAuthorizationSpecificationError: role "{role}" does not exist' in result.output
    assert "hunter2" not in result.output
    assert time.monotonic() - started < 5, "not a failure that waiting can mend"


def test_migrate_in_memory_says_there_is_no_database(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERS_DATABASE_URL", "memory://")
    result = CliRunner().invoke(cli, ["migrate"])
    assert (result.exit_code, result.output) == (
        1,
        "users-api: USERS_DATABASE_URL is memory://: there is no database to work on\n",
    )


def test_migrate_without_a_database_url_migrates_users_db_in_the_working_directory(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["migrate"])

    assert (result.exit_code, result.output) == (0, "users-api: SQLite file users.db is at revision head\n")
    assert revision(f"sqlite:///{tmp_path / 'users.db'}") == head()


def test_backup_of_a_store_that_is_not_sqlite_says_what_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERS_DATABASE_URL", "postgresql://app:hunter2@127.0.0.1:1/users")
    result = CliRunner().invoke(cli, ["backup", "copy.db"])
    assert result.exit_code == 1
    assert "use pg_dump" in result.output
    assert "hunter2" not in result.output


def test_serve_on_a_file_in_a_missing_directory_says_so_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("USERS_DATABASE_URL", f"sqlite:///{tmp_path / 'nowhere' / 'users.db'}")

    result = CliRunner().invoke(cli, ["serve"])

    assert (result.exit_code, result.output) == (
        1,
        f"users-api: there is no directory {tmp_path / 'nowhere'} for the SQLite file"
        f" {tmp_path / 'nowhere' / 'users.db'}\n",
    )
