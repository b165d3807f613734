from pathlib import Path

import pytest
from pydantic import ValidationError

from bootstrap import Settings, serve_target


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in ("USERS_STORAGE", "USERS_HOST", "USERS_PORT", "USERS_LOG_LEVEL", "USERS_READY_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_serve_memory_on_localhost_8000() -> None:
    settings = Settings()
    assert (settings.storage, settings.host, settings.port, settings.log_level) == (
        "memory",
        "127.0.0.1",
        8000,
        "info",
    )


def test_settings_come_from_users_variables_over_a_dot_env_file(
    monkeypatch: pytest.MonkeyPatch, clean_environment: Path
) -> None:
    (clean_environment / ".env").write_text("USERS_PORT=9001\nUSERS_HOST=0.0.0.0\nOTHER=ignored\n")
    monkeypatch.setenv("USERS_PORT", "9002")

    settings = Settings()

    assert (settings.host, settings.port) == ("0.0.0.0", 9002)


@pytest.mark.parametrize(
    ("name", "value"), [("USERS_STORAGE", "sqlite"), ("USERS_PORT", "70000"), ("USERS_LOG_LEVEL", "loud")]
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

    app, settings = serve_target(host="127.0.0.2", port=None, log_level=None)

    assert (settings.host, settings.port) == ("127.0.0.2", 9002)
    assert app.title == "users-api"
