"""LoginAttempts in PostgreSQL: one row per account, a failure counted by one atomic upsert, so that
every worker and replica sees the same count."""

from __future__ import annotations

from datetime import datetime, timedelta

from adapters.postgres.connections import Pool, connection_of

_FAILURES = """
SELECT attempts, window_started_at FROM login_attempts
WHERE account = $1 AND window_started_at > $2::timestamptz - $3::interval
"""
_FAIL = """
INSERT INTO login_attempts AS kept (account, attempts, window_started_at) VALUES ($1, 1, $2)
ON CONFLICT (account) DO UPDATE SET
    attempts = CASE WHEN kept.window_started_at <= $2::timestamptz - $3::interval
                    THEN 1 ELSE kept.attempts + 1 END,
    window_started_at = CASE WHEN kept.window_started_at <= $2::timestamptz - $3::interval
                             THEN $2 ELSE kept.window_started_at END
RETURNING attempts, window_started_at
"""
# Windows long over, of names a guesser sprayed: dropped as logins come (indexed, so a few rows).
_FORGET = "DELETE FROM login_attempts WHERE window_started_at <= $1::timestamptz - $2::interval"


class PostgresLoginAttempts:
    def __init__(self, pool: Pool, *, acquire_timeout: float) -> None:
        self._pool, self._acquire_timeout = pool, acquire_timeout

    async def failures(self, account: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            row = await connection.fetchrow(_FAILURES, account, now, window)
        return (0, now) if row is None else (row["attempts"], row["window_started_at"])

    async def fail(self, account: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            await connection.execute(_FORGET, now, window)
            row = await connection.fetchrow(_FAIL, account, now, window)
        assert row is not None  # an upsert returns its row
        return row["attempts"], row["window_started_at"]

    async def clear(self, account: str) -> None:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            await connection.execute("DELETE FROM login_attempts WHERE account = $1", account)
