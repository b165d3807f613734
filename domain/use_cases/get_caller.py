from __future__ import annotations

from domain.access import Caller
from domain.errors import Unauthenticated
from domain.model import User
from domain.ports import UserRepository


class GetCaller:
    """The caller's own user. Raises Unauthenticated when it is gone: its tokens are revoked, and
    this answer need not wait for the revocation delay to say so."""

    def __init__(self, users: UserRepository) -> None:
        self._users = users

    async def __call__(self, caller: Caller) -> User:
        user = None if caller.user_id is None else await self._users.get(caller.user_id)
        if user is None:
            raise Unauthenticated("the caller's user is gone")
        return user
