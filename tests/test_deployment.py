"""No Docker engine runs here, so the deployment files are checked for what they must say."""

import configparser
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


@pytest.mark.parametrize("service", ["migrate", "api", "api-scaled"])
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


SCALED = ("pgbouncer", "api-scaled", "proxy")


def test_the_scaled_profile_runs_proxy_replicas_and_pooler(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert all(services[name]["profiles"] == ["scaled"] for name in SCALED)
    assert services["proxy"]["depends_on"] == ["api-scaled"]
    assert services["api-scaled"]["deploy"]["replicas"] >= 2
    assert services["api-scaled"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    assert "ports" not in services["api-scaled"], "replicas are reached through the proxy alone"


def test_every_file_the_compose_file_mounts_exists(compose: dict[str, Any]) -> None:
    mounted = [
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]
    assert len(mounted) >= 2
    for source in mounted:
        assert (ROOT / source).is_file(), source


def test_the_proxy_template_gets_every_value_it_names(compose: dict[str, Any]) -> None:
    proxy = compose["services"]["proxy"]
    (mount,) = proxy["volumes"]
    source, target, _ = mount.split(":")
    assert re.fullmatch(r"/etc/nginx/templates/\w+\.conf\.template", target)
    named = set(re.findall(r"\$\{(\w+)\}", (ROOT / source).read_text()))
    assert named == set(proxy["environment"])
    port = proxy["environment"]["NGINX_PORT"]
    assert proxy["ports"] == [f"127.0.0.1:{port}:{port}"]


def test_the_replicas_believe_forwarded_headers_from_the_proxy_alone(compose: dict[str, Any]) -> None:
    services = compose["services"]
    proxy_address = services["proxy"]["networks"]["scaled"]["ipv4_address"]
    assert services["api-scaled"]["environment"]["USERS_FORWARDED_ALLOW_IPS"] == proxy_address
    assert "USERS_FORWARDED_ALLOW_IPS" not in services["api"]["environment"]


def test_the_replicas_reach_postgresql_through_pgbouncer_in_transaction_mode(compose: dict[str, Any]) -> None:
    pgbouncer = compose["services"]["pgbouncer"]
    (mount,) = pgbouncer["volumes"]
    source, target, _ = mount.split(":")
    ini = configparser.ConfigParser(interpolation=None, comment_prefixes=(";", "#"))
    ini.read_string((ROOT / source).read_text())
    assert ini["pgbouncer"]["pool_mode"] == "transaction"
    assert target in " ".join(pgbouncer["entrypoint"])
    assert ini["pgbouncer"]["auth_file"] in " ".join(pgbouncer["entrypoint"])
    api = compose["services"]["api-scaled"]["environment"]
    assert api["USERS_PGBOUNCER"] == "true"
    port = ini["pgbouncer"]["listen_port"]
    assert re.fullmatch(
        rf"postgresql://users:\$\{{POSTGRES_PASSWORD:\?[^}}]+\}}@pgbouncer:{port}/users",
        api["USERS_DATABASE_URL"],
    )
    assert "users" in ini["databases"]
    # The pooler's server connections stay within PostgreSQL's default max_connections (100).
    assert int(ini["pgbouncer"]["max_db_connections"]) <= 100 - 10
    replicas = compose["services"]["api-scaled"]["deploy"]["replicas"]
    assert int(api["USERS_DATABASE_POOL_BUDGET"]) * replicas <= int(ini["pgbouncer"]["max_client_conn"])
