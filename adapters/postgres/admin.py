"""What an operator does to a database before serving: create it, migrate it."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import asyncpg
from alembic import command

from adapters.postgres.errors import storage_errors
from adapters.schema.history import alembic_config, why_behind

MAINTENANCE_DATABASE = "postgres"


async def create_database(dsn: str) -> bool:
    """Creates the database the URL names unless it exists, connecting to the same server's
    maintenance database. True when it was created."""
    name = database_name(dsn)
    with storage_errors():
        connection = await asyncpg.connect(dsn, database=MAINTENANCE_DATABASE)
        try:
            if await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                return False
            try:
                await connection.execute(f"CREATE DATABASE {quote_identifier(name)}")
            except asyncpg.DuplicateDatabaseError:  # created by someone else meanwhile
                return False
            return True
        finally:
            await connection.close()


def migrate(dsn: str, revision: str = "head", *, downgrade: bool = False) -> None:
    """Upgrades the schema to `revision` with Alembic, or downgrades it to an older one."""
    if downgrade:
        command.downgrade(alembic_config(dsn), revision)
    else:
        command.upgrade(alembic_config(dsn), revision)


async def schema_behind(dsn: str) -> str | None:
    """Why the schema cannot serve this code (not migrated, or behind), or None when it can.
    A revision this code does not know is newer, from a later release: that one serves."""
    with storage_errors():
        # No prepared statement: one query, and PgBouncer in transaction mode may stand in between.
        connection = await asyncpg.connect(dsn, statement_cache_size=0)
        try:
            current = await connection.fetchval("SELECT version_num FROM alembic_version")
        except asyncpg.UndefinedTableError:
            current = None
        finally:
            await connection.close()
    return why_behind(current)


def sqlalchemy_url(dsn: str) -> str:
    """The same URL for SQLAlchemy, on its asyncpg dialect (Alembic runs through SQLAlchemy)."""
    scheme, rest = dsn.split("://", 1)
    return f"postgresql+asyncpg://{rest}" if scheme in ("postgres", "postgresql") else dsn


def database_name(dsn: str) -> str:
    name = unquote(urlsplit(dsn).path.lstrip("/"))
    if not name:
        raise ValueError("the database URL names no database")
    return name


def quote_identifier(name: str) -> str:
    """An SQL identifier in double quotes, any double quote in it doubled."""
    return '"' + name.replace('"', '""') + '"'
