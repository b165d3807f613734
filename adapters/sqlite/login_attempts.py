"""LoginAttempts in SQLite: one row per account, a failure counted by one upsert on the writer, so
that every process serving the file sees the same count."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from adapters.sqlite.repository import moment, timestamp
from adapters.sqlite.store import SqliteStore

_FAILURES = (
    "SELECT attempts, window_started_at FROM login_attempts WHERE account = ? AND window_started_at > ?"
)
_FAIL = """
INSERT INTO login_attempts (account, attempts, window_started_at) VALUES (?1, 1, ?2)
ON CONFLICT (account) DO UPDATE SET
    attempts = CASE WHEN window_started_at <= ?3 THEN 1 ELSE attempts + 1 END,
    window_started_at = CASE WHEN window_started_at <= ?3 THEN ?2 ELSE window_started_at END
RETURNING attempts, window_started_at
"""
# Windows long over, of names a guesser sprayed: dropped as logins come (indexed, so a few rows).
_FORGET = "DELETE FROM login_attempts WHERE window_started_at <= ?"


class SqliteLoginAttempts:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def failures(self, account: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        since = timestamp(now - window)
        rows = await self._store.read(lambda c: c.execute(_FAILURES, (account, since)).fetchall())
        return (0, now) if not rows else (rows[0][0], moment(rows[0][1]))

    async def fail(self, account: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        over = timestamp(now - window)

        def count(connection: sqlite3.Connection) -> tuple[int, str]:
            connection.execute(_FORGET, (over,))
            attempts, since = connection.execute(_FAIL, (account, timestamp(now), over)).fetchall()[0]
            return attempts, since

        attempts, since = await self._store.write(count)
        return attempts, moment(since)

    async def clear(self, account: str) -> None:
        await self._store.write(
            lambda c: c.execute("DELETE FROM login_attempts WHERE account = ?", (account,))
        )
