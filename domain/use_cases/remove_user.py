from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from domain.access import Caller
from domain.errors import UserNotFound, VersionMismatch
from domain.ports import UserRepository

_ATTEMPTS = 5


class RemoveUser:
    """Removes a user: an admin anyone, a member themselves. Raises UserNotFound (also for a member
    naming anyone else), VersionMismatch when the stored version is not one of `expected_versions`,
    and LastAdmin for the only admin."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def __call__(
        self, caller: Caller, user_id: UUID, expected_versions: Collection[int] | None = None
    ) -> None:
        # Without a precondition, a user changed meanwhile is read again and removed all the same.
        for _ in range(_ATTEMPTS if expected_versions is None else 1):
            user = await self._users.get(user_id) if caller.sees(user_id) else None
            if user is None:
                raise UserNotFound(user_id)
            if expected_versions is not None and user.version not in expected_versions:
                raise VersionMismatch(user_id)
            if await self._users.remove(user):
                return
        raise VersionMismatch(user_id)
