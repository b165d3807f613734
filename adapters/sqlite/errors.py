"""sqlite3 failures that mean "the file cannot answer now", as the domain's StorageUnavailable."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from domain.errors import StorageUnavailable

# Locked past the busy timeout, out of disk or memory, the file unreadable, unwritable or gone.
_UNAVAILABLE = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
        sqlite3.SQLITE_CORRUPT,
    }
)


def _primary(error: sqlite3.Error) -> int:
    return getattr(error, "sqlite_errorcode", -1) & 0xFF


def is_unavailable(error: BaseException) -> bool:
    return isinstance(error, sqlite3.Error) and _primary(error) in _UNAVAILABLE


def is_retryable_read(error: sqlite3.Error) -> bool:
    """Aborted past the loop's budget, or found the file busy: the read runs again on a thread."""
    return _primary(error) in (sqlite3.SQLITE_INTERRUPT, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def unavailable(error: BaseException) -> BaseException:
    """StorageUnavailable for a failure of the file; anything else (a bug) as it is."""
    if is_unavailable(error):
        failure = StorageUnavailable(f"SQLite: {error}")
        failure.__cause__ = error
        return failure
    return error


@contextmanager
def storage_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise unavailable(error) from error
