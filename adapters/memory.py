"""The in-memory store, for development and fast tests: the same answers as every adapter
(tests/contract proves it). Every sort has an index kept in order, so that a page costs its own
length and a bisection, at any depth; only `q` scans."""

from __future__ import annotations

import bisect
import builtins
from collections.abc import AsyncIterable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from sortedcontainers import SortedList

from adapters.memory_keys import InMemoryIdempotencyKeys
from domain.errors import LastAdmin, UserConflict
from domain.idempotency import Completion
from domain.listing import PageQuery, SortValue, UserFilter
from domain.model import Profile, Role, User, find_conflicts

# A user's place in a sort: the sort value, then the id (as an int: UUID's own comparison is
# Python code), then the user itself, never compared (the id is unique), so a page is read at once.
Place = tuple[SortValue, int, User]
_FIELDS: dict[str, Callable[[User], SortValue]] = {
    "created_at": lambda user: user.created_at,
    "username": lambda user: user.profile.username_key,
    "email": lambda user: user.profile.email_key,
}


class InMemoryUserRepository:
    """No method awaits anything, so on one event loop each runs to completion before another
    starts: that is what makes check-then-write atomic here, without a lock."""

    def __init__(self, keys: InMemoryIdempotencyKeys | None = None) -> None:
        self._keys = keys or InMemoryIdempotencyKeys()  # where a keyed write stores its answer
        self._users: dict[UUID, User] = {}
        self._owners: dict[str, dict[str, UUID]] = {"username": {}, "email": {}}
        self._admins: set[UUID] = set()
        self._orders: dict[str, SortedList[Place]] = {field: SortedList() for field in _FIELDS}

    async def add(self, user: User, once: Completion | None = None) -> None:
        self._insert([user], indexed=False, once=once)

    async def add_many(self, users: Sequence[User]) -> None:
        self._insert(users, indexed=True)

    async def add_all(self, batches: AsyncIterable[Sequence[User]], once: Completion | None = None) -> int:
        staged = [user async for batch in batches for user in batch]  # memory holds them all anyway
        self._insert(staged, indexed=True, once=once)
        return len(staged)

    async def get(self, user_id: UUID) -> User | None:
        return self._users.get(user_id)

    async def find_by_login(self, key: str) -> User | None:
        owner = self._owners["username"].get(key) or self._owners["email"].get(key)
        return None if owner is None else self._users[owner]

    async def list(self, query: PageQuery) -> list[User]:
        order = self._orders[query.sort.field]
        after = None if query.after is None else (query.after.value, query.after.id.int)
        found = query.filter
        if found.email_key is None and found.username_key is None and found.text is None:
            # Everyone: positions in the index, found by bisection.
            if query.sort.descending:
                end = len(order) if after is None else order.bisect_left(_before(*after))
                end = max(0, end - query.offset)
                places: Iterable[Place] = order.islice(max(0, end - query.limit), end, reverse=True)
            else:
                start = (
                    0 if after is None else order.bisect_left(_before(after[0], after[1] + 1))
                ) + query.offset
                places = order.islice(start, start + query.limit)
            return [place[2] for place in places]
        return [place[2] for place in _page(self._matching(found, query.sort.field), query, after)]

    def _matching(self, found: UserFilter, field: str) -> builtins.list[Place]:
        """The places of the users that match, in order; an exact key finds its one user at once."""
        if found.email_key is not None or found.username_key is not None:
            owner = self._owners["email"].get(found.email_key or "") or self._owners["username"].get(
                found.username_key or ""
            )
            candidates = [] if owner is None else [self._users[owner]]
            return [_place(user, _FIELDS[field]) for user in candidates if found.matches(user)]
        return [place for place in self._orders[field] if found.matches(place[2])]  # `q` scans

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

    def _insert(self, users: Sequence[User], *, indexed: bool, once: Completion | None = None) -> None:
        if len(users) != 1 or self._is_taken(users[0].profile):  # one free user: two lookups, no more
            conflicts = find_conflicts([user.profile for user in users], self._taken(), indexed=indexed)
            if conflicts:
                raise UserConflict(conflicts)
        if once is not None:  # raises before anything changes; stored in the same step as the users
            self._keys.complete(once, users)
        for user in users:
            self._claim(user)

    def _is_taken(self, profile: Profile) -> bool:
        return profile.username_key in self._owners["username"] or profile.email_key in self._owners["email"]

    def _taken(self, but: UUID | None = None) -> Callable[[str, str], bool]:
        return lambda field, key: self._owners[field].get(key, but) != but

    def _keep_an_admin_besides(self, user: User) -> None:
        if self._admins == {user.id}:
            raise LastAdmin(user.id)

    def _claim(self, user: User) -> None:
        self._users[user.id] = user
        for field, order in self._orders.items():
            order.add(_place(user, _FIELDS[field]))
        self._owners["username"][user.profile.username_key] = user.id
        self._owners["email"][user.profile.email_key] = user.id
        if user.role is Role.ADMIN:
            self._admins.add(user.id)

    def _release(self, user: User) -> None:
        del self._users[user.id]
        for field, order in self._orders.items():
            order.remove(_place(user, _FIELDS[field]))
        del self._owners["username"][user.profile.username_key]
        del self._owners["email"][user.profile.email_key]
        self._admins.discard(user.id)


def _place(user: User, value: Callable[[User], SortValue]) -> Place:
    return (value(user), user.id.int, user)


def _before(value: SortValue, id_int: int) -> Place:
    """What sorts before the place of any user at (value, id_int) and after every place below it: the
    pair alone, as a tuple sorts before the longer tuples it begins (id_int + 1: just past that user)."""
    return cast(Place, (value, id_int))


def _page(places: list[Place], query: PageQuery, after: tuple[SortValue, int] | None) -> list[Place]:
    """A page of `places` (in ascending order) by the query's direction, cursor and offset."""
    start, end = 0, len(places)
    if after is not None:
        if query.sort.descending:
            end = bisect.bisect_left(places, after, key=lambda place: place[:2])
        else:
            start = bisect.bisect_right(places, after, key=lambda place: place[:2])
    if query.sort.descending:
        stop = max(start, end - query.offset)
        chosen = places[max(start, stop - query.limit) : stop][::-1]
    else:
        chosen = places[start + query.offset : start + query.offset + query.limit]
    return chosen


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
