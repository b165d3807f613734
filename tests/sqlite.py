"""The SQLite files the tests run on: each a new file in the test's own temporary directory,
migrated by the same Alembic revisions as PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from adapters.sqlite import SqliteStore, StoreOptions, migrate


def migrated_file(directory: Path, name: str = "users.db") -> str:
    """The URL of a new SQLite file in `directory`, at the latest revision."""
    url = f"sqlite:///{directory / name}"
    migrate(url)
    return url


@asynccontextmanager
async def open_store(url: str, options: StoreOptions | None = None) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(url.removeprefix("sqlite:///"), options or StoreOptions(write_timeout=5))
    store.open()
    try:
        yield store
    finally:
        store.close()


def query(url: str, sql: str, *arguments: object) -> list[tuple[object, ...]]:
    """Rows of one query, on a connection of its own (as another process would read the file)."""
    connection = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        with connection:  # committed, for a write
            return connection.execute(sql, arguments).fetchall()
    finally:
        connection.close()
