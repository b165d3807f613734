"""Driver failures that mean "the database cannot answer now", as the domain's StorageUnavailable."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from domain.errors import StorageUnavailable

# SQLSTATE classes: 08 connection exception, 53 insufficient resources (too many connections),
# 57 operator intervention (statement timeout, terminated backend, shutdown), 58 system error.
_UNAVAILABLE_CLASSES = ("08", "53", "57", "58")


@contextmanager
def storage_errors() -> Iterator[None]:
    """Maps connection refused or lost, pool acquire and command timeouts, statement timeouts and too
    many connections to StorageUnavailable. Anything else (a bug) goes up as it is."""
    try:
        yield
    except (OSError, TimeoutError, asyncpg.PostgresConnectionError) as error:
        raise StorageUnavailable(type(error).__name__) from error
    except asyncpg.PostgresError as error:
        if (error.sqlstate or "")[:2] in _UNAVAILABLE_CLASSES:
            raise StorageUnavailable(type(error).__name__) from error
        raise
    except asyncpg.InternalClientError as error:
        # A connection that the server cut in mid-operation can leave asyncpg's protocol in a state
        # it reports this way ("cannot switch to state N", asyncpg issue 784): lost, like the rest.
        raise StorageUnavailable(type(error).__name__) from error
    except asyncpg.InterfaceError as error:
        # The connection or the pool went away under the operation; asyncpg says so only in words.
        # Other interface errors are misuse, a bug, and go up.
        if str(error) in _GONE or str(error).endswith(_CLOSED_UNDER):
            raise StorageUnavailable(type(error).__name__) from error
        raise


_GONE = frozenset({"connection is closed", "pool is closing", "pool is closed"})
# "cannot call Transaction.__aexit__(): ...": a transaction's end on a connection cut meanwhile.
_CLOSED_UNDER = "(): the underlying connection is closed"
