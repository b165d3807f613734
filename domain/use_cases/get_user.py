from __future__ import annotations

from uuid import UUID

from domain.errors import UserNotFound
from domain.model import User
from domain.ports import UserRepository


class GetUser:
    """Finds one user by id. Raises UserNotFound."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def __call__(self, user_id: UUID) -> User:
        user = await self._users.get(user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user
