"""No Docker engine runs here, so the deployment files are checked for what they must say."""

import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).parent.parent
COMMAND = Path(sys.executable).with_name("users-api")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_the_database_is_a_pinned_postgres_with_a_healthcheck_and_a_volume(compose: dict[str, Any]) -> None:
    db = compose["services"]["db"]
    assert re.fullmatch(r"postgres:\d+\.\d+[-\w]*", db["image"]), "pin a PostgreSQL release"
    assert db["healthcheck"]["test"][:4] == ["CMD", "pg_isready", "-h", "127.0.0.1"]
    volume = db["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data"
    assert volume[0] in compose["volumes"]


def test_migrate_runs_once_after_the_database_is_healthy_and_the_api_after_both(
    compose: dict[str, Any],
) -> None:
    migrate, api = compose["services"]["migrate"], compose["services"]["api"]
    assert migrate["command"] == ["users-api", "migrate"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert api["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }
    for service in (migrate, api):
        url = service["environment"]["USERS_DATABASE_URL"]
        assert re.fullmatch(r"postgresql://users:\$\{POSTGRES_PASSWORD:\?[^}]+\}@db:5432/users", url)


def test_the_password_is_never_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    assert compose["services"]["db"]["environment"]["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")


@pytest.mark.parametrize("service", ["migrate", "api"])
def test_the_commands_of_the_compose_file_exist(compose: dict[str, Any], service: str) -> None:
    program, subcommand, *options = compose["services"][service]["command"]
    assert program == "users-api"
    shown = subprocess.run([str(COMMAND), subcommand, "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr
    for option in options[::2]:
        assert option in shown.stdout


def test_the_image_is_built_in_stages_and_runs_as_an_unprivileged_user() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", dockerfile, re.MULTILINE)) >= 2
    assert "COPY --from=build" in dockerfile
    user = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert user, "the image must name its user"
    assert user[-1] not in ("root", "0")
    assert '"users-api", "serve"' in dockerfile


@pytest.mark.e2e
def test_the_installed_package_carries_the_migrations(tmp_path: Path) -> None:
    """What the image installs (`pip install .`, not editable) must hold what `migrate` reads."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            str(ROOT),
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (wheel,) = tmp_path.glob("users_api-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    versions = sorted(path.name for path in (ROOT / "adapters/schema/migrations/versions").glob("*.py"))
    assert "bootstrap.py" in names
    assert "adapters/schema/migrations/env.py" in names
    assert "adapters/schema/migrations/script.py.mako" in names
    assert {f"adapters/schema/migrations/versions/{name}" for name in versions} <= names
