from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from domain.errors import UserNotFound, VersionMismatch
from domain.ports import UserRepository


class RemoveUser:
    """Removes a user. Raises UserNotFound, and VersionMismatch when the stored version is not one
    of `expected_versions`."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def __call__(self, user_id: UUID, expected_versions: Collection[int] | None = None) -> None:
        if expected_versions is None:
            if not await self._users.remove(user_id):
                raise UserNotFound(user_id)
            return
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        if user.version not in expected_versions:
            raise VersionMismatch(user_id)
        if not await self._users.remove(user_id, expected_version=user.version):
            raise VersionMismatch(user_id)
