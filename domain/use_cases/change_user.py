from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from domain.errors import UserNotFound, VersionMismatch
from domain.model import Draft, Profile, User
from domain.ports import Clock, UserRepository

_ATTEMPTS = 5


class ChangeUser:
    """Applies a merge patch: absent fields stay, None clears a name (and is invalid for username or
    email). A patch that changes nothing keeps the version. Raises UserNotFound, InvalidInput,
    UserConflict, and VersionMismatch when the stored version is not one of `expected_versions`."""

    def __init__(self, users: UserRepository, clock: Clock) -> None:
        self._users, self._clock = users, clock

    async def __call__(
        self, user_id: UUID, changes: Draft, expected_versions: Collection[int] | None = None
    ) -> User:
        # Without a precondition, a concurrent change is merged with by reading again.
        for _ in range(_ATTEMPTS if expected_versions is None else 1):
            user = await self._users.get(user_id)
            if user is None:
                raise UserNotFound(user_id)
            profile = Profile.parse({**user.profile.fields(), **changes})  # invalid input: 422 before 412
            if expected_versions is not None and user.version not in expected_versions:
                raise VersionMismatch(user_id)
            if profile == user.profile:
                return user
            changed = user.changed(profile, self._clock())
            if await self._users.update(changed, expected_version=user.version):
                return changed
        raise VersionMismatch(user_id)
