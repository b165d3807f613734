"""The SQLite adapter: stdlib sqlite3 at run time (one writer thread, reads on the loop); its schema
is `adapters/schema`, the same as PostgreSQL's."""

from adapters.sqlite.admin import backup, create_file, describe, migrate, path_of, revision, schema_behind
from adapters.sqlite.idempotency_keys import SqliteIdempotencyKeys
from adapters.sqlite.login_attempts import SqliteLoginAttempts
from adapters.sqlite.repository import SqliteUserRepository
from adapters.sqlite.store import SqliteStore, StoreOptions, run_store

__all__ = [
    "SqliteIdempotencyKeys",
    "SqliteLoginAttempts",
    "SqliteStore",
    "SqliteUserRepository",
    "StoreOptions",
    "backup",
    "create_file",
    "describe",
    "migrate",
    "path_of",
    "revision",
    "run_store",
    "schema_behind",
]
