import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.schema.history import head
from adapters.sqlite import migrate, revision
from bootstrap import CliActions, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in [name for name in os.environ if name.startswith("USERS_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_serve_a_sqlite_file_in_the_working_directory_on_localhost_8000() -> None:
    settings = Settings()
    assert (settings.storage, settings.dsn(), settings.host, settings.port, settings.log_level) == (
        "sqlite",
        "sqlite:///users.db",
        "127.0.0.1",
        8000,
        "info",
    )


@pytest.mark.parametrize(
    ("url", "storage"),
    [
        ("memory://", "memory"),
        ("sqlite:///users.db", "sqlite"),
        ("sqlite:////var/lib/users-api/users.db", "sqlite"),
        ("postgresql://app@db/users", "postgres"),
        ("postgres://app@db/users", "postgres"),
    ],
)
def test_the_database_url_selects_the_storage(
    monkeypatch: pytest.MonkeyPatch, url: str, storage: str
) -> None:
    monkeypatch.setenv("USERS_DATABASE_URL", url)
    assert Settings().storage == storage


def test_settings_come_from_users_variables_over_a_dot_env_file(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    (clean_environment / ".env").write_text("USERS_PORT=9001\nUSERS_HOST=0.0.0.0\nOTHER=ignored\n")
    monkeypatch.setenv("USERS_PORT", "9002")

    settings = Settings()

    assert (settings.host, settings.port) == ("0.0.0.0", 9002)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("USERS_DATABASE_URL", "mysql://root:hunter2@db/users"),
        ("USERS_DATABASE_URL", "sqlite://"),
        ("USERS_DATABASE_URL", "sqlite:///users.db?mode=memory"),
        ("USERS_DATABASE_URL", "memory"),
        ("USERS_PORT", "70000"),
        ("USERS_LOG_LEVEL", "loud"),
        ("USERS_POOL_MIN_SIZE", "-1"),
    ],
)
def test_a_bad_setting_is_refused_at_start(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_command_line_options_override_the_environment_and_unset_ones_do_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USERS_PORT", "9002")
    monkeypatch.setenv("USERS_HOST", "0.0.0.0")

    app, settings = CliActions().serve_target(host="127.0.0.2", port=None, log_level=None)

    assert (settings.host, settings.port) == ("127.0.0.2", 9002)
    assert app.title == "users-api"


def test_a_database_url_selects_postgres_and_its_password_shows_nowhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("USERS_DATABASE_URL", "postgresql://app:hunter2@db:5432/users")

    settings = Settings()

    assert settings.storage == "postgres"
    assert settings.dsn() == "postgresql://app:hunter2@db:5432/users"
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in str(settings.model_dump())
    assert "hunter2" not in settings.model_dump_json()


@pytest.mark.parametrize(
    "environment",
    [
        {"USERS_DATABASE_URL": "mysql://app:hunter2@db/users"},
        {"USERS_DATABASE_URL": "postgresql://app:hunter2@db/users", "USERS_POOL_MIN_SIZE": "20"},
    ],
)
def test_a_refused_setting_does_not_repeat_the_password(
    monkeypatch: pytest.MonkeyPatch, environment: dict[str, str]
) -> None:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ValidationError) as refused:
        Settings()

    assert "hunter2" not in str(refused.value)  # what a traceback or a log shows
    assert refused.value.errors(include_input=False)


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_database_url_means_unset(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("USERS_DATABASE_URL", value)

    settings = Settings()

    assert (settings.dsn(), settings.storage) == ("sqlite:///users.db", "sqlite")


def test_serving_a_new_sqlite_file_migrates_it_and_says_so(clean_environment: Path) -> None:
    _, settings = CliActions().serve_target()

    assert revision("sqlite:///users.db") == head()
    assert (clean_environment / "users.db").is_file()
    assert any("users.db had no schema" in caution for caution in settings.cautions())


def test_serving_a_sqlite_file_behind_the_code_says_what_to_run() -> None:
    migrate("sqlite:///users.db", "0001")

    with pytest.raises(
        ValueError, match=r"the schema is at 0001, this code needs \d+ \(run `users-api migrate`\)"
    ):
        CliActions().serve_target()
    assert revision("sqlite:///users.db") == "0001"  # left as it was


@pytest.mark.parametrize(
    ("workers", "pool_max", "budget", "per_worker"),
    [(1, 10, 20, 10), (2, 10, 20, 10), (3, 10, 20, 6), (4, 10, 20, 5), (4, 3, 20, 3), (8, 10, 8, 1)],
)
def test_the_workers_pools_together_stay_within_the_budget(
    workers: int, pool_max: int, budget: int, per_worker: int
) -> None:
    settings = Settings(workers=workers, pool_max_size=pool_max, database_pool_budget=budget)

    assert settings.worker_pool_max == per_worker
    assert settings.pool_options().max_size == per_worker
    assert settings.pool_options().min_size <= per_worker
    assert workers * settings.pool_options().max_size <= budget


def test_a_budget_smaller_than_the_workers_is_refused() -> None:
    with pytest.raises(ValidationError, match="every worker needs a connection"):
        Settings(workers=4, database_pool_budget=3)


def test_the_hashing_threads_are_shared_among_the_workers() -> None:
    assert Settings(password_hash_concurrency=4, workers=2).hashing_options().concurrency == 2
    assert Settings(password_hash_concurrency=1, workers=2).hashing_options().concurrency == 1


def test_forwarded_headers_are_believed_from_no_one_unless_named(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().forwarded_allow_ips == []
    monkeypatch.setenv("USERS_FORWARDED_ALLOW_IPS", "10.0.0.5, 127.0.0.2")
    assert Settings().forwarded_allow_ips == ["10.0.0.5", "127.0.0.2"]
