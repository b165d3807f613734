"""The PostgreSQL UserRepository on asyncpg: hand-written, parameterized SQL over the tables of
`adapters/schema/tables.py`. The domain computes every key; this adapter stores and compares them."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from adapters.postgres.connections import Connection, Pool, connection_of
from adapters.postgres.idempotency_keys import complete
from domain.errors import IdempotencyInProgress, LastAdmin, StorageUnavailable, UserConflict
from domain.idempotency import Completion
from domain.listing import PageQuery, UserFilter
from domain.model import Profile, Role, User, find_conflicts

COLUMNS = (
    "id", "username", "email", "first_name", "last_name",
    "username_key", "email_key", "search_text", "created_at", "updated_at", "version",
    "role", "password_hash", "credentials_version",
)  # fmt: skip
# What a user is read back from, the keys the domain derived when it was written included (`_user`).
_SELECT = (
    "SELECT id, username, email, first_name, last_name, username_key, email_key, search_text,"
    " created_at, updated_at, version, role, password_hash, credentials_version FROM users"
)
_INSERT = (
    f"INSERT INTO users ({', '.join(COLUMNS)}) VALUES ({', '.join(f'${n}' for n in range(1, 15))}) "
    "ON CONFLICT DO NOTHING"
)
_UPDATE = (
    "UPDATE users SET username = $2, email = $3, first_name = $4, last_name = $5, username_key = $6,"
    " email_key = $7, search_text = $8, created_at = $9, updated_at = $10, version = $11, role = $12,"
    " password_hash = $13, credentials_version = $14 WHERE id = $1 AND version = $15"
)
_DELETE = "DELETE FROM users WHERE id = $1 AND version = $2"
# Taken by every change that may leave no admin, so that two admins demoting or removing each other
# at once cannot both succeed: the second sees the first's change, and is refused.
_ADMINS_LOCK = "SELECT pg_advisory_xact_lock(7325013750185441)"
_ANOTHER_ADMIN = "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND id <> $1)"
_TAKEN = "SELECT id, username_key, email_key FROM users WHERE username_key = ANY($1) OR email_key = ANY($2)"
_SORT_COLUMNS = {"created_at": "created_at", "username": "username_key", "email": "email_key"}
# A write that hit a unique key which was free again when we looked is tried again, this often.
_ATTEMPTS = 5


class PostgresUserRepository:
    def __init__(self, pool: Pool, *, acquire_timeout: float) -> None:
        self._pool, self._acquire_timeout = pool, acquire_timeout

    async def add(self, user: User, once: Completion | None = None) -> None:
        await self._insert([user], indexed=False, once=once)

    async def add_many(self, users: Sequence[User]) -> None:
        await self._insert(users, indexed=True)

    async def add_all(self, batches: AsyncIterable[Sequence[User]], once: Completion | None = None) -> int:
        # One COPY, fed a batch at a time: the server stores one batch while the caller makes the
        # next, on the other core. Only the profiles are kept, to name conflicts afterwards (and the
        # users, for a keyed write's answer).
        profiles: list[Profile] = []
        users: list[User] = []

        async def records() -> AsyncIterator[tuple[Any, ...]]:
            async for batch in batches:
                if once is not None:
                    users.extend(batch)
                for user in batch:
                    profiles.append(user.profile)
                    yield row_of(user)

        async with connection_of(self._pool, self._acquire_timeout) as connection, connection.transaction():
            if not await _copy(connection, records()):
                await self._raise_conflicts(connection, profiles, indexed=True)
                raise StorageUnavailable("a unique key stayed contended")
            if once is not None:
                await complete(connection, once, users)
        return len(profiles)

    async def get(self, user_id: UUID) -> User | None:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            row = await connection.fetchrow(f"{_SELECT} WHERE id = $1", user_id)
        return None if row is None else _user(row)

    async def find_by_login(self, key: str) -> User | None:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            row = await connection.fetchrow(f"{_SELECT} WHERE username_key = $1 OR email_key = $1", key)
        return None if row is None else _user(row)

    async def has_admin(self) -> bool:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            found: bool = await connection.fetchval(
                "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')"
            )
        return found

    async def list(self, query: PageQuery) -> list[User]:
        column = _SORT_COLUMNS[query.sort.field]
        conditions, arguments = _where(query.filter)
        if query.after is not None:
            arguments += [query.after.value, query.after.id]
            above = "<" if query.sort.descending else ">"
            conditions.append(f"({column}, id) {above} (${len(arguments) - 1}, ${len(arguments)})")
        direction = " DESC" if query.sort.descending else ""
        arguments += [query.limit, query.offset]
        sql = (
            f"{_SELECT}{_clause(conditions)} ORDER BY {column}{direction}, id{direction}"
            f" LIMIT ${len(arguments) - 1} OFFSET ${len(arguments)}"
        )
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            rows = await connection.fetch(sql, *arguments)
        return [_user(row) for row in rows]

    async def count(self, filter: UserFilter) -> int:
        conditions, arguments = _where(filter)
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            total: int = await connection.fetchval(
                f"SELECT count(*) FROM users{_clause(conditions)}", *arguments
            )
        return total

    async def update(self, user: User, *, previous: User) -> bool:
        demoting = previous.role is Role.ADMIN and user.role is not Role.ADMIN
        for _ in range(_ATTEMPTS):
            async with connection_of(self._pool, self._acquire_timeout) as connection:
                try:
                    if demoting:
                        async with connection.transaction():
                            await self._keep_an_admin_besides(connection, user.id)
                            status = await connection.execute(_UPDATE, *row_of(user), previous.version)
                    else:
                        status = await connection.execute(_UPDATE, *row_of(user), previous.version)
                except asyncpg.UniqueViolationError:
                    await self._raise_conflicts(connection, [user.profile], indexed=False, but=user.id)
                    continue
            return status == "UPDATE 1"
        raise StorageUnavailable("a unique key stayed contended")

    async def remove(self, user: User) -> bool:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            if user.role is not Role.ADMIN:
                return await connection.execute(_DELETE, user.id, user.version) == "DELETE 1"
            async with connection.transaction():
                await self._keep_an_admin_besides(connection, user.id)
                return await connection.execute(_DELETE, user.id, user.version) == "DELETE 1"

    async def ping(self) -> None:
        async with connection_of(self._pool, self._acquire_timeout) as connection:
            await connection.fetchval("SELECT 1")

    async def _insert(self, users: Sequence[User], *, indexed: bool, once: Completion | None = None) -> None:
        """Writes first and explains after: on a unique violation, names the conflicts the domain's
        way; if the key was freed meanwhile, tries again."""
        for _ in range(_ATTEMPTS):
            async with connection_of(self._pool, self._acquire_timeout) as connection:
                if once is None:
                    inserted = await _write(connection, users, indexed=indexed)
                else:
                    inserted = await _write_once(connection, users[0], once)
                if inserted:
                    return
                await self._raise_conflicts(connection, [user.profile for user in users], indexed=indexed)
        raise StorageUnavailable("a unique key stayed contended")

    @staticmethod
    async def _keep_an_admin_besides(connection: Connection, user_id: UUID) -> None:
        await connection.execute(_ADMINS_LOCK)
        if not await connection.fetchval(_ANOTHER_ADMIN, user_id):
            raise LastAdmin(user_id)

    @staticmethod
    async def _raise_conflicts(
        connection: Connection,
        profiles: Sequence[Profile],
        *,
        indexed: bool,
        but: UUID | None = None,
    ) -> None:
        rows = await connection.fetch(
            _TAKEN,
            [profile.username_key for profile in profiles],
            [profile.email_key for profile in profiles],
        )
        taken = {
            "username": {row["username_key"] for row in rows if row["id"] != but},
            "email": {row["email_key"] for row in rows if row["id"] != but},
        }
        conflicts = find_conflicts(profiles, lambda field, key: key in taken[field], indexed=indexed)
        if conflicts:
            raise UserConflict(conflicts)


async def _write(connection: Connection, users: Sequence[User], *, indexed: bool) -> bool:
    """All or nothing; False when a unique key is taken."""
    if len(users) == 1 and not indexed:
        return bool(await connection.execute(_INSERT, *row_of(users[0])) == "INSERT 0 1")
    return await _copy(connection, [row_of(user) for user in users])


# One user and the answer of its keyed write, in one statement (so one transaction, one round trip):
# the user is inserted only while the claim holds its key unanswered (the row locked meanwhile), and
# the answer is stored only when the user was. "UPDATE 0": the key was not held, or a unique key taken.
_INSERT_ONCE = f"""
WITH held AS (
    SELECT 1 FROM idempotency_keys WHERE owner = $15 AND key = $16 AND token = $17 AND answer IS NULL
    FOR UPDATE
), new AS (
    INSERT INTO users ({", ".join(COLUMNS)})
    SELECT $1::uuid, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text,
           $9::timestamptz, $10::timestamptz, $11::int, $12::text, $13::text, $14::int
    WHERE EXISTS (SELECT 1 FROM held)
    ON CONFLICT DO NOTHING RETURNING 1
)
UPDATE idempotency_keys SET answer = $18, expires_at = $19
WHERE owner = $15 AND key = $16 AND token = $17 AND EXISTS (SELECT 1 FROM new)
"""
_HELD = """
SELECT EXISTS (SELECT 1 FROM idempotency_keys WHERE owner = $1 AND key = $2 AND token = $3 AND answer IS NULL)
"""


async def _write_once(connection: Connection, user: User, once: Completion) -> bool:
    """The user and the answer of `once`, together; False when a unique key is taken. Raises
    IdempotencyInProgress, writing nothing, when the claim no longer holds its key unanswered."""
    claim = once.claim
    arguments = (claim.owner, claim.key, claim.token)
    status = await connection.execute(
        _INSERT_ONCE, *row_of(user), *arguments, once.answer([user]), once.expires_at
    )
    if status == "UPDATE 1":
        return True
    if not await connection.fetchval(_HELD, *arguments):
        raise IdempotencyInProgress()
    return False


async def _copy(
    connection: Connection, records: Iterable[tuple[Any, ...]] | AsyncIterable[tuple[Any, ...]]
) -> bool:
    """All or nothing in one transaction (a savepoint inside another), through COPY; False when a
    unique key is taken."""
    try:
        async with connection.transaction():
            await connection.copy_records_to_table("users", records=records, columns=COLUMNS)
    except asyncpg.UniqueViolationError:
        return False
    return True


def _where(filter: UserFilter) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    arguments: list[Any] = []
    for column, value in (("email_key", filter.email_key), ("username_key", filter.username_key)):
        if value is not None:
            arguments.append(value)
            conditions.append(f"{column} = ${len(arguments)}")
    if filter.text is not None:
        arguments.append(f"%{_escape_like(filter.text)}%")
        conditions.append(f"search_text LIKE ${len(arguments)}")
    return conditions, arguments


def _clause(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def _escape_like(text: str) -> str:
    """`%`, `_` and the escape character itself match only themselves."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def row_of(user: User) -> tuple[Any, ...]:
    """The user as a row of the users table, in the order of COLUMNS."""
    profile = user.profile
    return (
        user.id, profile.username, profile.email, profile.first_name, profile.last_name,
        profile.username_key, profile.email_key, profile.search_text,
        user.created_at, user.updated_at, user.version,
        user.role.value, user.password_hash, user.credentials_version,
    )  # fmt: skip


def _user(row: asyncpg.Record) -> User:
    """A user from a row of _SELECT (by position: a page reads 50 of them)."""
    return User.stored(
        row[0],
        Profile.stored(row[1], row[2], row[3], row[4], row[5], row[6], row[7]),
        row[8],
        row[9],
        row[10],
        _ROLES[row[11]],
        row[12],
        row[13],
    )


_ROLES = {role.value: role for role in Role}
