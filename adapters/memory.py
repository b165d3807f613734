"""The in-memory store, for development and fast tests: the same answers as every adapter
(tests/contract proves it), with every page costing a sort of the matching users."""

from __future__ import annotations

import bisect
from collections.abc import AsyncIterable, Callable, Sequence
from datetime import datetime, timedelta
from uuid import UUID

from domain.errors import LastAdmin, UserConflict
from domain.listing import PageQuery, SortValue, UserFilter
from domain.model import Role, User, find_conflicts


class InMemoryUserRepository:
    """No method awaits anything, so on one event loop each runs to completion before another
    starts: that is what makes check-then-write atomic here, without a lock."""

    def __init__(self) -> None:
        self._users: dict[UUID, User] = {}
        self._owners: dict[str, dict[str, UUID]] = {"username": {}, "email": {}}
        self._admins: set[UUID] = set()

    async def add(self, user: User) -> None:
        self._insert([user], indexed=False)

    async def add_many(self, users: Sequence[User]) -> None:
        self._insert(users, indexed=True)

    async def add_all(self, batches: AsyncIterable[Sequence[User]]) -> int:
        staged = [user async for batch in batches for user in batch]  # memory holds them all anyway
        self._insert(staged, indexed=True)
        return len(staged)

    async def get(self, user_id: UUID) -> User | None:
        return self._users.get(user_id)

    async def find_by_login(self, key: str) -> User | None:
        owner = self._owners["username"].get(key) or self._owners["email"].get(key)
        return None if owner is None else self._users[owner]

    async def list(self, query: PageQuery) -> list[User]:
        key, descending, matches = query.sort.key, query.sort.descending, query.filter.matches

        def position(user: User) -> tuple[SortValue, int]:
            return (key(user), user.id.int)  # the int: UUID's own comparison is Python code

        ordered = sorted((user for user in self._users.values() if matches(user)), key=position)
        start, end = 0, len(ordered)
        if query.after is not None:  # the rows are sorted: find the cursor's place by bisection
            after = (query.after.value, query.after.id.int)
            if descending:
                end = bisect.bisect_left(ordered, after, key=position)
            else:
                start = bisect.bisect_right(ordered, after, key=position)
        if descending:
            stop = max(start, end - query.offset)
            return ordered[max(start, stop - query.limit) : stop][::-1]
        return ordered[start + query.offset : start + query.offset + query.limit]

    async def count(self, filter: UserFilter) -> int:
        return sum(1 for user in self._users.values() if filter.matches(user))

    async def has_admin(self) -> bool:
        return bool(self._admins)

    async def update(self, user: User, *, previous: User) -> bool:
        stored = self._users.get(user.id)
        if stored is None or stored.version != previous.version:
            return False
        conflicts = find_conflicts([user.profile], self._taken(but=user.id), indexed=False)
        if conflicts:
            raise UserConflict(conflicts)
        if user.role is not Role.ADMIN:
            self._keep_an_admin_besides(stored)
        self._release(stored)
        self._claim(user)
        return True

    async def remove(self, user: User) -> bool:
        stored = self._users.get(user.id)
        if stored is None or stored.version != user.version:
            return False
        self._keep_an_admin_besides(stored)
        self._release(stored)
        return True

    async def ping(self) -> None:
        return None

    def _insert(self, users: Sequence[User], *, indexed: bool) -> None:
        conflicts = find_conflicts([user.profile for user in users], self._taken(), indexed=indexed)
        if conflicts:
            raise UserConflict(conflicts)
        for user in users:
            self._claim(user)

    def _taken(self, but: UUID | None = None) -> Callable[[str, str], bool]:
        return lambda field, key: self._owners[field].get(key, but) != but

    def _keep_an_admin_besides(self, user: User) -> None:
        if self._admins == {user.id}:
            raise LastAdmin(user.id)

    def _claim(self, user: User) -> None:
        self._users[user.id] = user
        self._owners["username"][user.profile.username_key] = user.id
        self._owners["email"][user.profile.email_key] = user.id
        if user.role is Role.ADMIN:
            self._admins.add(user.id)

    def _release(self, user: User) -> None:
        del self._users[user.id]
        del self._owners["username"][user.profile.username_key]
        del self._owners["email"][user.profile.email_key]
        self._admins.discard(user.id)


_WINDOWS_KEPT = 100_000


class InMemoryLoginAttempts:
    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, datetime]] = {}

    async def failures(self, account: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        count, since = self._windows.get(account, (0, now))
        return (0, now) if since <= now - window else (count, since)

    async def fail(self, account: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        if len(self._windows) >= _WINDOWS_KEPT:  # names sprayed by a guesser: forget the windows over
            self._windows = {key: kept for key, kept in self._windows.items() if kept[1] > now - window}
        count, since = await self.failures(account, now, window)
        self._windows[account] = (count + 1, since)
        return count + 1, since

    async def clear(self, account: str) -> None:
        self._windows.pop(account, None)
