from __future__ import annotations

from domain.access import OPERATOR
from domain.errors import UserConflict
from domain.model import Draft, Role, User
from domain.ports import UserRepository
from domain.use_cases.register_users import RegisterUser


class CreateFirstAdmin:
    """Registers this admin when the store holds no admin yet; never changes an existing user.
    Returns the new admin, or None when there was one already (made meanwhile by another process
    included). Raises UserConflict when the username or email belongs to a user who is not an
    admin, and InvalidInput."""

    def __init__(self, users: UserRepository, register: RegisterUser) -> None:
        self._users, self._register = users, register

    async def __call__(self, draft: Draft) -> User | None:
        if await self._users.has_admin():
            return None
        try:
            return await self._register(OPERATOR, {**draft, "role": Role.ADMIN})
        except UserConflict:
            if await self._users.has_admin():  # another worker or replica was first
                return None
            raise
