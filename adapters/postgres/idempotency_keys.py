"""Idempotency keys in PostgreSQL: a claim is one upsert, and the repository completes it with
`complete` inside the transaction that stores the users, so that the answer and the write are
committed together or not at all."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from adapters.postgres.connections import Connection, Pool, connection_of
from domain.errors import IdempotencyInProgress
from domain.idempotency import Claim, Completion, Done, Reservation, Reserved, Reused, Running
from domain.model import User

# Expired keys, a thousand at most, none that another request is dropping or taking over; at most
# once a second per process (a statement less on a keyed create's path).
_PURGE = """
DELETE FROM idempotency_keys WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM idempotency_keys WHERE expires_at <= $1 LIMIT 1000 FOR UPDATE SKIP LOCKED))
"""
_PURGE_EVERY = timedelta(seconds=1)
# Free or expired: the claim takes it (a row comes back). Otherwise the key stays as it is.
_RESERVE = """
INSERT INTO idempotency_keys AS kept (owner, key, fingerprint, token, expires_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (owner, key) DO UPDATE SET fingerprint = $3, token = $4, expires_at = $5, answer = NULL
WHERE kept.expires_at <= $6
RETURNING token
"""
_KEPT = "SELECT fingerprint, answer FROM idempotency_keys WHERE owner = $1 AND key = $2"
# Only while this claim holds the key unanswered.
_ABANDON = "DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2 AND token = $3 AND answer IS NULL"
_COMPLETE = """
UPDATE idempotency_keys SET answer = $4, expires_at = $5
WHERE owner = $1 AND key = $2 AND token = $3 AND answer IS NULL
"""
# A key dropped between the upsert and the read is reserved again, this often.
_ATTEMPTS = 3
_RESERVED, _RUNNING, _REUSED = Reserved(), Running(), Reused()


class PostgresIdempotencyKeys:
    def __init__(self, pool: Pool, *, acquire_timeout: float) -> None:
        self._pool, self._acquire_timeout = pool, acquire_timeout
        self._purged_at: datetime | None = None

    async def reserve(self, claim: Claim, now: datetime) -> Reservation:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            if self._purged_at is None or now - self._purged_at >= _PURGE_EVERY:
                self._purged_at = now
                await connection.execute(_PURGE, now)
            for _ in range(_ATTEMPTS):
                held = await connection.fetchval(
                    _RESERVE, claim.owner, claim.key, claim.fingerprint, claim.token, claim.until, now
                )
                if held is not None:
                    return _RESERVED
                row = await connection.fetchrow(_KEPT, claim.owner, claim.key)
                if row is None:
                    continue
                if row["fingerprint"] != claim.fingerprint:
                    return _REUSED
                return _RUNNING if row["answer"] is None else Done(row["answer"])
        return _RUNNING

    async def abandon(self, claim: Claim) -> None:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            await connection.execute(_ABANDON, claim.owner, claim.key, claim.token)


async def complete(connection: Connection, once: Completion, users: Sequence[User]) -> None:
    """Stores the answer of `once` in the connection's transaction; raises IdempotencyInProgress
    (the caller rolls back) unless its claim still holds the key unanswered."""
    claim = once.claim
    status = await connection.execute(
        _COMPLETE, claim.owner, claim.key, claim.token, once.answer(users), once.expires_at
    )
    if status != "UPDATE 1":
        raise IdempotencyInProgress()
