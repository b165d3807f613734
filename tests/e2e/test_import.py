"""`users-api import` as an operator runs it: a 100,000-row file, bad rows, --atomic."""

import json
import time
from pathlib import Path

import pytest

from tests.e2e.service import environment, users_api
from tests.postgres import fetchval
from tests.sqlite import query

pytestmark = pytest.mark.e2e

ROWS = 100_000


def write_csv(path: Path, rows: int, *extra: str) -> Path:
    with path.open("w", encoding="utf-8") as file:
        file.write("username,email,first_name,last_name\n")
        for n in range(rows):
            file.write(f'user{n},user{n}@example.com,Name {n},"O\'Brien, {n}"\n')
        file.writelines(f"{line}\n" for line in extra)
    return path


@pytest.mark.postgres
async def test_a_100000_row_csv_file_is_imported_whole(tmp_path: Path, database: str) -> None:
    path = write_csv(tmp_path / "users.csv", ROWS)

    started = time.monotonic()
    result = users_api("import", str(path), cwd=tmp_path, env=environment(database_url=database))
    seconds = time.monotonic() - started

    print(f"\nimported {ROWS:,} rows in {seconds:.2f} s: {result.stdout.strip()}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"users-api: {ROWS:,} of {ROWS:,} rows imported in ")
    assert await fetchval(database, "SELECT count(*) FROM users") == ROWS
    assert (
        await fetchval(database, "SELECT last_name FROM users WHERE username = 'user99999'")
        == "O'Brien, 99999"
    )


@pytest.mark.postgres
async def test_bad_rows_are_reported_by_line_and_the_good_ones_kept(tmp_path: Path, database: str) -> None:
    lines = [
        json.dumps({"username": "ada", "email": "ada@example.com"}),
        json.dumps({"username": "x", "email": "not-an-email"}),
        "{broken",
        json.dumps({"username": "ADA", "email": "other@example.com"}),
        json.dumps({"username": "bob", "email": "bob@example.com", "password": "hunter2"}),
        json.dumps({"username": "carol", "email": "carol@example.com", "first_name": "Carol"}),
    ]
    path = tmp_path / "users.ndjson"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = users_api("import", str(path), cwd=tmp_path, env=environment(database_url=database))

    assert result.returncode == 1
    assert result.stdout == "users-api: 2 of 6 rows imported in " + result.stdout.split(" in ", 1)[1]
    assert "; 4 refused" in result.stdout
    reported = [line.split(":")[0] for line in result.stderr.splitlines()]
    assert reported == ["line 2", "line 2", "line 3", "line 5", "line 4"]
    assert "hunter2" not in result.stderr
    assert (
        await fetchval(database, "SELECT string_agg(username, ',' ORDER BY username) FROM users")
        == "ada,carol"
    )


@pytest.mark.postgres
async def test_an_atomic_import_with_one_bad_row_at_the_end_imports_nothing(
    tmp_path: Path, database: str
) -> None:
    path = write_csv(tmp_path / "users.csv", ROWS, "zed,not-an-email,,")

    result = users_api("import", "--atomic", str(path), cwd=tmp_path, env=environment(database_url=database))

    assert result.returncode == 1
    assert result.stderr.startswith(f"line {ROWS + 2}: email: ")
    assert f"0 of {ROWS + 1:,} rows imported" in result.stdout
    assert "nothing was imported (--atomic)" in result.stdout
    assert await fetchval(database, "SELECT count(*) FROM users") == 0


def test_an_import_needs_a_database(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "users.csv", 1)

    result = users_api("import", str(path), cwd=tmp_path, env=environment(database_url="memory://"))

    assert result.returncode == 1
    assert result.stderr == "users-api: USERS_DATABASE_URL is memory://: there is no database to work on\n"


def test_an_import_into_a_sqlite_file_without_a_schema_says_what_to_run(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "users.csv", 1)

    result = users_api("import", str(path), cwd=tmp_path, env=environment())

    assert result.returncode == 1
    assert result.stderr.startswith("users-api: SQLite file users.db: the database has no schema yet (run")


@pytest.mark.parametrize("atomic", [False, True], ids=["in batches", "atomic"])
def test_a_100000_row_csv_file_is_imported_whole_into_sqlite(tmp_path: Path, atomic: bool) -> None:
    path = write_csv(tmp_path / "users.csv", ROWS)
    assert users_api("migrate", cwd=tmp_path, env=environment()).returncode == 0

    started = time.monotonic()
    options = ["--atomic"] if atomic else []
    result = users_api("import", *options, str(path), cwd=tmp_path, env=environment())
    seconds = time.monotonic() - started

    print(f"\nimported {ROWS:,} rows into SQLite in {seconds:.2f} s: {result.stdout.strip()}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"users-api: {ROWS:,} of {ROWS:,} rows imported in ")
    url = f"sqlite:///{tmp_path / 'users.db'}"
    assert query(url, "SELECT count(*) FROM users") == [(ROWS,)]
    assert query(url, "SELECT last_name FROM users WHERE username = 'user99999'") == [("O'Brien, 99999",)]


def test_an_atomic_import_into_sqlite_with_one_bad_row_at_the_end_imports_nothing(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "users.csv", 20_000, "user7,taken@example.com,,")
    assert users_api("migrate", cwd=tmp_path, env=environment()).returncode == 0

    result = users_api("import", "--atomic", str(path), cwd=tmp_path, env=environment())

    assert result.returncode == 1
    assert result.stderr.startswith("line 20002: username: ")
    assert "nothing was imported (--atomic)" in result.stdout
    assert query(f"sqlite:///{tmp_path / 'users.db'}", "SELECT count(*) FROM users") == [(0,)]
