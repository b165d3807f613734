"""The ports: what the use cases need from the outside world, shaped by them."""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

from domain.listing import PageQuery, UserFilter
from domain.model import User


class UserRepository(Protocol):
    """Stores users. Any method may raise StorageUnavailable; none commits anything as a side effect."""

    async def add(self, user: User) -> None:
        """Raises UserConflict naming each field whose canonical key another user holds."""

    async def add_many(self, users: Sequence[User]) -> None:
        """All or nothing. Raises UserConflict naming every (index, field) taken, by a stored user
        or by an earlier item of the batch; then nothing is written."""

    async def add_all(self, batches: AsyncIterable[Sequence[User]]) -> int:
        """Every batch in one transaction, all or nothing; returns how many users were stored.
        Raises UserConflict as `add_many` does, indexes counted across all batches; then, or when
        `batches` itself raises, nothing is written."""

    async def get(self, user_id: UUID) -> User | None: ...

    async def list(self, query: PageQuery) -> list[User]:
        """Up to `query.limit` matching users in sort order, after `query.after` or past `query.offset`."""

    async def count(self, filter: UserFilter) -> int: ...

    async def update(self, user: User, *, expected_version: int) -> bool:
        """Replaces the stored user if it is at `expected_version`; False if it is not, or is gone.
        Raises UserConflict as `add` does."""

    async def remove(self, user_id: UUID, *, expected_version: int | None = None) -> bool:
        """False when no user has this id (at this version, when one is given)."""

    async def ping(self) -> None:
        """Returns once the store answers; raises StorageUnavailable otherwise."""


class Clock(Protocol):
    def __call__(self) -> datetime:
        """Now, in UTC."""


class IdSource(Protocol):
    def __call__(self) -> UUID: ...
