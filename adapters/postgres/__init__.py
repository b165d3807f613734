"""The PostgreSQL adapter: asyncpg at run time; its schema is `adapters/schema`."""

from adapters.postgres.admin import create_database, migrate
from adapters.postgres.idempotency_keys import PostgresIdempotencyKeys
from adapters.postgres.login_attempts import PostgresLoginAttempts
from adapters.postgres.pool import (
    PoolOptions,
    describe,
    new_pool,
    open_pool,
    run_pool,
    usage,
    wait_for_database,
)
from adapters.postgres.repository import PostgresUserRepository

__all__ = [
    "PoolOptions",
    "PostgresIdempotencyKeys",
    "PostgresLoginAttempts",
    "PostgresUserRepository",
    "create_database",
    "describe",
    "migrate",
    "new_pool",
    "open_pool",
    "run_pool",
    "usage",
    "wait_for_database",
]
