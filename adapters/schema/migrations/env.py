"""Alembic's environment: migrations run on an async engine (SQLAlchemy over asyncpg) for
PostgreSQL, and on SQLAlchemy's sqlite3 engine for a SQLite file. Batch mode renders the changes
SQLite can make only by copying a table (`render_as_batch`), for both.

The URL comes from `users-api migrate` (config attribute `dsn`) or, for Alembic's own command line
(`alembic revision --autogenerate`), from USERS_DATABASE_URL."""

import asyncio
import os

from alembic import context
from sqlalchemy import Connection, create_engine, pool
from sqlalchemy.ext.asyncio import create_async_engine

from adapters.postgres.admin import sqlalchemy_url
from adapters.schema.tables import metadata


def run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=metadata, compare_type=True, render_as_batch=True
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online(dsn: str) -> None:
    engine = create_async_engine(sqlalchemy_url(dsn), poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()


def main() -> None:
    dsn = context.config.attributes.get("dsn") or os.environ["USERS_DATABASE_URL"]
    if context.is_offline_mode():
        context.configure(url=sqlalchemy_url(dsn), target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    elif dsn.startswith("sqlite:"):
        engine = create_engine(dsn, poolclass=pool.NullPool)
        try:
            with engine.connect() as connection:
                run(connection)
                connection.commit()
        finally:
            engine.dispose()
    else:
        asyncio.run(run_online(dsn))


main()
