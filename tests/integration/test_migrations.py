"""The migrations build exactly the tables of `adapters/schema/tables.py`, and come apart cleanly."""

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.postgres import migrate
from adapters.postgres.admin import sqlalchemy_url
from adapters.schema.tables import metadata
from tests.postgres import execute, fetchval, in_own_thread

pytestmark = pytest.mark.postgres


def drift(url: str) -> list[object]:
    def compare(connection: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(connection), metadata))

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


def test_the_migrated_schema_matches_the_tables_exactly(own_database: str) -> None:
    assert in_own_thread(drift, own_database) == []


async def test_downgrade_to_base_removes_everything_and_upgrade_rebuilds_it(own_database: str) -> None:
    await asyncio.to_thread(migrate, own_database, "base", downgrade=True)
    assert await tables(own_database) == {"alembic_version"}

    await asyncio.to_thread(migrate, own_database)
    assert await tables(own_database) == {"alembic_version", "users", "login_attempts", "idempotency_keys"}
    assert await asyncio.to_thread(drift, own_database) == []


def test_a_planted_difference_is_seen_as_drift(own_database: str) -> None:
    """The drift check above can fail: an index the tables do not declare is reported."""
    asyncio.run(execute(own_database, "CREATE INDEX users_planted_idx ON users (updated_at)"))
    try:
        assert [change[0] for change in in_own_thread(drift, own_database)] == ["remove_index"]  # type: ignore[index]
    finally:
        asyncio.run(execute(own_database, "DROP INDEX users_planted_idx"))
