"""The SQLite UserRepository: hand-written, parameterized SQL over the tables of
`adapters/schema/tables.py`. The domain computes every key; this adapter stores and compares them
(BINARY collation: UTF-8 bytes, which is code-point order, as Python compares). Writes run one at a
time on the store's writer, so a check made inside one is still true when it writes."""

from __future__ import annotations

import asyncio
import queue
import sqlite3
from collections.abc import AsyncIterable, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from adapters.sqlite.store import SqliteStore
from domain.errors import IdempotencyInProgress, LastAdmin, StorageUnavailable, UserConflict
from domain.idempotency import Completion
from domain.listing import PageQuery, SortValue, UserFilter
from domain.model import Profile, Role, User, find_conflicts
from domain.sources import uuid_of

COLUMNS = (
    "id", "username", "email", "first_name", "last_name",
    "username_key", "email_key", "search_text", "created_at", "updated_at", "version",
    "role", "password_hash", "credentials_version",
)  # fmt: skip
_SELECT = f"SELECT {', '.join(COLUMNS)} FROM users"
_INSERT = f"INSERT INTO users ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_INSERT_IF_FREE = f"{_INSERT} ON CONFLICT DO NOTHING"
_UPDATE = (
    "UPDATE users SET username = ?, email = ?, first_name = ?, last_name = ?, username_key = ?,"
    " email_key = ?, search_text = ?, created_at = ?, updated_at = ?, version = ?, role = ?,"
    " password_hash = ?, credentials_version = ? WHERE id = ?"
)
_ANOTHER_ADMIN = "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND id <> ?)"
_SORT_COLUMNS = {"created_at": "created_at", "username": "username_key", "email": "email_key"}
_KEYS_A_QUERY = 400  # keys looked up at once when naming conflicts (well under SQLite's 32,766)
_DONE = object()


class SqliteUserRepository:
    def __init__(self, store: SqliteStore) -> None:
        self._store = store

    async def add(self, user: User, once: Completion | None = None) -> None:
        def insert(connection: sqlite3.Connection) -> None:
            if connection.execute(_INSERT_IF_FREE, row_of(user)).rowcount != 1:
                _raise_conflicts(connection, [user.profile], indexed=False)
                raise StorageUnavailable("a unique key was taken, but no conflict was found")
            if once is not None:
                _complete(connection, once, [user])

        await self._store.write(insert)

    async def add_many(self, users: Sequence[User]) -> None:
        rows = [row_of(user) for user in users]
        await self._store.write(lambda connection: _insert_all(connection, rows, users))

    async def add_all(self, batches: AsyncIterable[Sequence[User]], once: Completion | None = None) -> int:
        # The writer takes the batches as they come, all in one savepoint: one transaction. It is
        # asked for only once the first batch is made (a bulk's passwords hashed, a file's first
        # rows read and checked), so the file's one writer is not held while the loop works on it;
        # a batch of `POST /users/bulk` is its whole body. An import of many batches in one
        # transaction (`--atomic`) holds the writer for as long as it reads.
        feed: queue.SimpleQueue[Any] = queue.SimpleQueue()
        coming = aiter(batches)
        first = await anext(coming, _DONE)
        feed.put(first)
        stored = asyncio.ensure_future(
            self._store.write(lambda c: _insert_fed(c, feed, once), unbounded=True)
        )
        if first is not _DONE:
            try:
                async for batch in coming:
                    if stored.done():
                        break
                    feed.put(batch)
            except BaseException:
                feed.put(None)  # nothing is written
                await asyncio.gather(stored, return_exceptions=True)
                raise
            feed.put(_DONE)
        return await stored

    async def get(self, user_id: UUID) -> User | None:
        rows = await self._store.read(
            lambda c: c.execute(f"{_SELECT} WHERE id = ?", (user_id.hex,)).fetchall()
        )
        return _user(rows[0]) if rows else None

    async def find_by_login(self, key: str) -> User | None:
        sql = f"{_SELECT} WHERE username_key = ?1 UNION ALL {_SELECT} WHERE email_key = ?1"
        rows = await self._store.read(lambda c: c.execute(sql, (key,)).fetchall())
        return _user(rows[0]) if rows else None

    async def has_admin(self) -> bool:
        sql = "SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin')"
        return bool(await self._store.read(lambda c: c.execute(sql).fetchall()[0][0]))

    async def list(self, query: PageQuery) -> list[User]:
        column = _SORT_COLUMNS[query.sort.field]
        conditions, arguments = _where(query.filter)
        if query.after is not None:
            arguments += [_sort_value(query.after.value), query.after.id.hex]
            conditions.append(f"({column}, id) {'<' if query.sort.descending else '>'} (?, ?)")
        direction = " DESC" if query.sort.descending else ""
        arguments += [query.limit, query.offset]
        sql = f"{_SELECT}{_clause(conditions)} ORDER BY {column}{direction}, id{direction} LIMIT ? OFFSET ?"
        rows = await self._store.read(lambda c: c.execute(sql, arguments).fetchall())
        return [_user(row) for row in rows]

    async def count(self, filter: UserFilter) -> int:
        conditions, arguments = _where(filter)
        sql = f"SELECT count(*) FROM users{_clause(conditions)}"
        total: int = await self._store.read(lambda c: c.execute(sql, arguments).fetchall()[0][0])
        return total

    async def update(self, user: User, *, previous: User) -> bool:
        def replace(connection: sqlite3.Connection) -> bool:
            stored = connection.execute(
                "SELECT version, role FROM users WHERE id = ?", (user.id.hex,)
            ).fetchall()
            if not stored or stored[0][0] != previous.version:
                return False
            _raise_conflicts(connection, [user.profile], indexed=False, but=user.id)
            if stored[0][1] == Role.ADMIN.value and user.role is not Role.ADMIN:
                _keep_an_admin_besides(connection, user.id)
            connection.execute(_UPDATE, (*row_of(user)[1:], user.id.hex))
            return True

        return await self._store.write(replace)

    async def remove(self, user: User) -> bool:
        def delete(connection: sqlite3.Connection) -> bool:
            stored = connection.execute(
                "SELECT version, role FROM users WHERE id = ?", (user.id.hex,)
            ).fetchall()
            if not stored or stored[0][0] != user.version:
                return False
            if stored[0][1] == Role.ADMIN.value:
                _keep_an_admin_besides(connection, user.id)
            connection.execute("DELETE FROM users WHERE id = ?", (user.id.hex,))
            return True

        return await self._store.write(delete)

    async def ping(self) -> None:
        await self._store.read(lambda c: c.execute("SELECT 1").fetchall())
        await self._store.write(lambda c: None)  # the writer answers too, and the file takes a lock


def _insert_all(connection: sqlite3.Connection, rows: list[tuple[Any, ...]], users: Sequence[User]) -> None:
    """All or nothing: on a taken key, undoes the rows written and names every conflict."""
    connection.execute("SAVEPOINT batch")
    try:
        connection.executemany(_INSERT, rows)
    except sqlite3.IntegrityError:
        connection.execute("ROLLBACK TO batch")
        connection.execute("RELEASE batch")
        _raise_conflicts(connection, [user.profile for user in users], indexed=True)
        raise StorageUnavailable("a unique key was taken, but no conflict was found") from None
    connection.execute("RELEASE batch")


def _insert_fed(connection: sqlite3.Connection, feed: queue.SimpleQueue[Any], once: Completion | None) -> int:
    """The batches `feed` brings until _DONE (None: give up); returns how many users were stored."""
    users: list[User] = []
    failed = False
    connection.execute("SAVEPOINT fed")
    while (batch := feed.get()) is not _DONE:
        if batch is None:
            raise StorageUnavailable("the import stopped")  # its savepoint is rolled back
        users.extend(batch)
        if not failed:
            try:
                connection.executemany(_INSERT, [row_of(user) for user in batch])
            except sqlite3.IntegrityError:
                failed = True  # read every batch still, to name every conflict
    if failed:
        connection.execute("ROLLBACK TO fed")  # to the state before the import, to explain
        _raise_conflicts(connection, [user.profile for user in users], indexed=True)
        raise StorageUnavailable("a unique key was taken, but no conflict was found")
    if once is not None:
        _complete(connection, once, users)  # raising, it leaves the savepoint for the store to undo
    connection.execute("RELEASE fed")
    return len(users)


_COMPLETE = """
UPDATE idempotency_keys SET answer = ?4, expires_at = ?5
WHERE owner = ?1 AND key = ?2 AND token = ?3 AND answer IS NULL
"""


def _complete(connection: sqlite3.Connection, once: Completion, users: Sequence[User]) -> None:
    """Stores the answer of a keyed write in the write under way; raises IdempotencyInProgress (the
    write's savepoint is rolled back, the users with it) unless its claim still holds the key
    unanswered."""
    claim = once.claim
    arguments = (claim.owner, claim.key, claim.token.hex, once.answer(users), timestamp(once.expires_at))
    if connection.execute(_COMPLETE, arguments).rowcount != 1:
        raise IdempotencyInProgress()


def _keep_an_admin_besides(connection: sqlite3.Connection, user_id: UUID) -> None:
    if not connection.execute(_ANOTHER_ADMIN, (user_id.hex,)).fetchall()[0][0]:
        raise LastAdmin(user_id)


def _raise_conflicts(
    connection: sqlite3.Connection, profiles: Sequence[Profile], *, indexed: bool, but: UUID | None = None
) -> None:
    taken: dict[str, set[str]] = {"username": set(), "email": set()}
    for field, column in (("username", "username_key"), ("email", "email_key")):
        keys = [getattr(profile, column) for profile in profiles]
        for start in range(0, len(keys), _KEYS_A_QUERY):
            chunk = keys[start : start + _KEYS_A_QUERY]
            sql = f"SELECT {column} FROM users WHERE {column} IN ({', '.join('?' * len(chunk))}) AND id <> ?"
            taken[field].update(key for (key,) in connection.execute(sql, (*chunk, (but or UUID(int=0)).hex)))
    conflicts = find_conflicts(profiles, lambda field, key: key in taken[field], indexed=indexed)
    if conflicts:
        raise UserConflict(conflicts)


def _where(filter: UserFilter) -> tuple[list[str], list[Any]]:
    conditions: list[str] = []
    arguments: list[Any] = []
    for column, value in (("email_key", filter.email_key), ("username_key", filter.username_key)):
        if value is not None:
            arguments.append(value)
            conditions.append(f"{column} = ?")
    if filter.text is not None:
        arguments.append(filter.text)
        conditions.append("instr(search_text, ?) > 0")  # a literal substring: no wildcards
    return conditions, arguments


def _clause(conditions: list[str]) -> str:
    return f" WHERE {' AND '.join(conditions)}" if conditions else ""


def timestamp(moment: datetime) -> str:
    """UTC, to the microsecond, in one fixed width (as SQLAlchemy writes DateTime on SQLite), so
    that the text sorts as the moments do."""
    return moment.astimezone(UTC).isoformat(" ", "microseconds")[:-6]  # without its "+00:00"


def moment(stored: str) -> datetime:
    # With its offset written out, one C call (a sixth of the time of parsing, then replacing).
    return datetime.fromisoformat(stored + "+00:00")


def _id(stored: str) -> UUID:
    """UUID(hex=stored), without UUID.__init__'s checks (60% of the time): a page reads 50 of them,
    every one written by `row_of` as 32 hex digits."""
    return uuid_of(int(stored, 16))


def _sort_value(value: SortValue) -> str:
    return timestamp(value) if isinstance(value, datetime) else value


def row_of(user: User) -> tuple[Any, ...]:
    """The user as a row of the users table, in the order of COLUMNS."""
    profile = user.profile
    return (
        user.id.hex, profile.username, profile.email, profile.first_name, profile.last_name,
        profile.username_key, profile.email_key, profile.search_text,
        timestamp(user.created_at), timestamp(user.updated_at), user.version,
        user.role.value, user.password_hash, user.credentials_version,
    )  # fmt: skip


def _user(row: tuple[Any, ...]) -> User:
    return User.stored(
        _id(row[0]),
        Profile.stored(row[1], row[2], row[3], row[4], row[5], row[6], row[7]),
        moment(row[8]),
        moment(row[9]),
        row[10],
        _ROLES[row[11]],
        row[12],
        row[13],
    )


_ROLES = {role.value: role for role in Role}
