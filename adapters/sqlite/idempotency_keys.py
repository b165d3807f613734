"""Idempotency keys in SQLite: a claim is one upsert on the writer; the repository completes it
inside the write that stores the users (one savepoint), so that the answer and the users are
committed together or not at all."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from adapters.sqlite.repository import timestamp
from adapters.sqlite.store import SqliteStore
from domain.idempotency import Claim, Done, Reservation, Reserved, Reused, Running

# Expired keys, a hundred at most a time (indexed by expiry, so a few rows).
_PURGE = (
    "DELETE FROM idempotency_keys WHERE rowid IN"
    " (SELECT rowid FROM idempotency_keys WHERE expires_at <= ? LIMIT 100)"
)
# Free or expired: the claim takes it (a row comes back). Otherwise the key stays as it is.
_RESERVE = """
INSERT INTO idempotency_keys AS kept (owner, key, fingerprint, token, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)
ON CONFLICT (owner, key) DO UPDATE SET
    fingerprint = excluded.fingerprint, token = excluded.token, expires_at = excluded.expires_at,
    answer = NULL
WHERE kept.expires_at <= ?6
RETURNING token
"""
_KEPT = "SELECT fingerprint, answer FROM idempotency_keys WHERE owner = ? AND key = ?"
# Only while this claim holds the key unanswered.
_ABANDON = "DELETE FROM idempotency_keys WHERE owner = ? AND key = ? AND token = ? AND answer IS NULL"
_RESERVED, _RUNNING, _REUSED = Reserved(), Running(), Reused()


class SqliteIdempotencyKeys:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def reserve(self, claim: Claim, now: datetime) -> Reservation:
        arguments = (claim.owner, claim.key, claim.fingerprint, claim.token.hex, timestamp(claim.until))

        def reserve(connection: sqlite3.Connection) -> Reservation:
            # One write at a time: nothing changes the key between these statements.
            connection.execute(_PURGE, (timestamp(now),))
            if connection.execute(_RESERVE, (*arguments, timestamp(now))).fetchall():
                return _RESERVED
            ((fingerprint, answer),) = connection.execute(_KEPT, (claim.owner, claim.key)).fetchall()
            if fingerprint != claim.fingerprint:
                return _REUSED
            return _RUNNING if answer is None else Done(bytes(answer))

        return await self._store.write(reserve)

    async def abandon(self, claim: Claim) -> None:
        await self._store.write(lambda c: c.execute(_ABANDON, (claim.owner, claim.key, claim.token.hex)))
