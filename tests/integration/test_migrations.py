"""The migrations build exactly the tables of `adapters/schema/tables.py`, on PostgreSQL and on
SQLite, and come apart cleanly."""

import asyncio
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, create_engine
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.postgres import migrate
from adapters.postgres.admin import sqlalchemy_url
from adapters.schema.tables import metadata
from adapters.sqlite import migrate as migrate_file
from tests.postgres import execute, fetchval, in_own_thread
from tests.sqlite import migrated_file, query


def compare(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


def drift(url: str) -> list[object]:
    if url.startswith("sqlite:"):
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                return compare(connection)
        finally:
            engine.dispose()

    async def run() -> list[object]:
        engine = create_async_engine(sqlalchemy_url(url))
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(compare)
        finally:
            await engine.dispose()

    return asyncio.run(run())


async def tables(url: str) -> set[str]:
    names = await fetchval(url, "SELECT array_agg(tablename) FROM pg_tables WHERE schemaname = 'public'")
    return set(names or [])


def file_tables(url: str) -> set[str]:
    return {str(name) for (name,) in query(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.mark.postgres
def test_the_migrated_schema_matches_the_tables_exactly(own_database: str) -> None:
    assert in_own_thread(drift, own_database) == []


@pytest.mark.postgres
async def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(own_database: str) -> None:
    await asyncio.to_thread(migrate, own_database, "base", downgrade=True)
    assert await tables(own_database) == {"alembic_version"}

    await asyncio.to_thread(migrate, own_database)
    assert await tables(own_database) == {"alembic_version", "users", "login_attempts", "idempotency_keys"}
    assert await asyncio.to_thread(drift, own_database) == []


@pytest.mark.postgres
def test_a_planted_difference_is_seen_as_drift(own_database: str) -> None:
    """The drift check above can fail: an index the tables do not declare is reported."""
    asyncio.run(execute(own_database, "CREATE INDEX users_planted_idx ON users (updated_at)"))
    try:
        assert [change[0] for change in in_own_thread(drift, own_database)] == ["remove_index"]  # type: ignore[index]
    finally:
        asyncio.run(execute(own_database, "DROP INDEX users_planted_idx"))


def test_the_migrated_sqlite_file_matches_the_tables_exactly(tmp_path: Path) -> None:
    assert drift(migrated_file(tmp_path)) == []


def test_on_sqlite_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(tmp_path: Path) -> None:
    url = migrated_file(tmp_path)

    migrate_file(url, "base", downgrade=True)
    assert file_tables(url) == {"alembic_version"}

    migrate_file(url)
    assert file_tables(url) == {"alembic_version", "users", "login_attempts", "idempotency_keys"}
    assert drift(url) == []


def test_on_sqlite_the_accounts_revision_keeps_the_users_stored_before_it(tmp_path: Path) -> None:
    """0002 copies the users table on SQLite (batch mode): its rows come through, as members."""
    url = f"sqlite:///{tmp_path / 'users.db'}"
    migrate_file(url, "0001")
    row = ("0" * 32, "ada", "ada@example.com", None, None, "ada", "ada@example.com", "ada ada@example.com")
    query(
        url,
        "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        *row,
        *["2026-11-23 10:00:00.000000"] * 2,
    )

    migrate_file(url)

    stored = query(url, "SELECT id, username, role, password_hash, credentials_version FROM users")
    assert stored == [("0" * 32, "ada", "member", None, 1)]


def test_on_sqlite_a_planted_difference_is_seen_as_drift(tmp_path: Path) -> None:
    url = migrated_file(tmp_path)
    query(url, "CREATE INDEX users_planted_idx ON users (updated_at)")

    assert [change[0] for change in drift(url)] == ["remove_index"]  # type: ignore[index]
