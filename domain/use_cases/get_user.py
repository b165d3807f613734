from __future__ import annotations

from uuid import UUID

from domain.access import Caller
from domain.errors import UserNotFound
from domain.model import User
from domain.ports import UserRepository


class GetUser:
    """Finds one user by id. Raises UserNotFound, also for a member asking for anyone else."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def __call__(self, caller: Caller, user_id: UUID) -> User:
        user = await self._users.get(user_id) if caller.sees(user_id) else None
        if user is None:
            raise UserNotFound(user_id)
        return user
