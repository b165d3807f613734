"""What an operator does to a SQLite file: migrate it, check it, copy it while it serves."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from alembic import command

from adapters.schema.history import alembic_config, why_behind
from adapters.sqlite.errors import storage_errors
from domain.errors import StorageUnavailable

_SCHEME = "sqlite:///"


def path_of(url: str) -> str:
    """The file a `sqlite:///path` URL names: relative to the working directory, or absolute with
    four slashes (`sqlite:////var/lib/users.db`), as SQLAlchemy reads them."""
    if not url.startswith(_SCHEME) or not url[len(_SCHEME) :] or "?" in url:
        raise ValueError("a SQLite URL is sqlite:///path/to/users.db")
    return url[len(_SCHEME) :]


def migrate(url: str, revision: str = "head", *, downgrade: bool = False) -> None:
    """Upgrades the file's schema to `revision` with Alembic (making the file if it is missing), or
    downgrades it to an older one."""
    _writable_directory(path_of(url))
    with storage_errors():
        if downgrade:
            command.downgrade(alembic_config(url), revision)
        else:
            command.upgrade(alembic_config(url), revision)


def revision(url: str) -> str | None:
    """The schema revision of the file, None when it has none (or does not exist yet)."""
    path = path_of(url)
    if not Path(path).exists():
        return None
    with storage_errors():
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchall()
            if not rows:
                return None
            found = connection.execute("SELECT version_num FROM alembic_version").fetchall()
            return found[0][0] if found else None
        finally:
            connection.close()


def schema_behind(url: str) -> str | None:
    """Why the file cannot serve this code (no schema, or behind), or None when it can."""
    return why_behind(revision(url))


def backup(url: str, target: str) -> int:
    """A consistent copy of the file at `target` (SQLite's online backup API: one snapshot, while
    writers go on), checked, then moved into place. Returns its size in bytes."""
    source_path, partial = path_of(url), f"{target}.partial"
    if not Path(source_path).exists():
        raise StorageUnavailable(f"there is no SQLite file at {source_path}")
    for leftover in (f"{target}-wal", f"{target}-shm"):
        if Path(leftover).exists():  # SQLite would replay an old log onto the new copy
            raise StorageUnavailable(f"{leftover} exists: is {target} being served? Stop it, or name another")
    try:
        with storage_errors():
            source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
            copy = sqlite3.connect(partial)
            try:
                source.execute("PRAGMA busy_timeout = 10000")
                source.backup(copy)  # all pages in one step: one read transaction, one snapshot
                verdict = copy.execute("PRAGMA integrity_check").fetchall()
            finally:
                copy.close()
                source.close()
        if verdict != [("ok",)]:
            raise StorageUnavailable(f"the copy failed its integrity check: {verdict[0][0]}")
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return Path(target).stat().st_size


def describe(url: str) -> str:
    return f"SQLite file {path_of(url)}"


def _writable_directory(path: str) -> None:
    directory = Path(path).parent
    if not directory.is_dir():
        raise StorageUnavailable(f"there is no directory {directory} for the SQLite file {path}")
    if not os.access(directory, os.W_OK) or (Path(path).exists() and not os.access(path, os.W_OK)):
        # SQLite writes beside the file too (its -wal and -shm files).
        raise StorageUnavailable(
            f"cannot write the SQLite file {path} in {directory} (set USERS_DATABASE_URL)"
        )


def create_file(url: str) -> bool:
    """Makes the file, empty, unless it exists. True when it was made."""
    path = path_of(url)
    _writable_directory(path)
    if Path(path).exists():
        return False
    with storage_errors():
        sqlite3.connect(path).close()
    return True
