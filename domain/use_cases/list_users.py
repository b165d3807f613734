from __future__ import annotations

from dataclasses import dataclass

from domain.access import Caller
from domain.errors import CursorWithOffset
from domain.listing import Keyset, PageQuery, Sort, UserFilter, decode_cursor, encode_cursor
from domain.model import User
from domain.ports import UserRepository


@dataclass(frozen=True, slots=True)
class Page:
    items: list[User]
    next_cursor: str | None
    total: int | None = None


class ListUsers:
    """One page of users, by keyset cursor or by offset; admins only. Raises Forbidden,
    InvalidCursor, CursorWithOffset."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def __call__(
        self,
        caller: Caller,
        *,
        limit: int,
        sort: Sort = Sort.CREATED_AT,
        filter: UserFilter = UserFilter(),  # noqa: B008 (frozen, so sharing it is safe)
        cursor: str | None = None,
        offset: int | None = None,
        include_total: bool = False,
    ) -> Page:
        caller.must_be_admin()
        if cursor is not None and offset is not None:
            raise CursorWithOffset()
        after = None if cursor is None else decode_cursor(cursor, sort, filter)
        # One row more than asked tells whether a next page exists, without a count.
        rows = await self._users.list(PageQuery(sort, filter, limit + 1, after, offset or 0))
        items = rows[:limit]
        next_cursor = encode_cursor(Keyset.of(items[-1], sort), sort, filter) if len(rows) > limit else None
        total = await self._users.count(filter) if include_total else None
        return Page(items, next_cursor, total)
