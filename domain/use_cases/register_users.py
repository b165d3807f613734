from __future__ import annotations

from collections.abc import Sequence

from domain.errors import FieldError, InvalidInput
from domain.model import Draft, Profile, User
from domain.ports import Clock, IdSource, UserRepository


class RegisterUser:
    """Registers one user. Raises InvalidInput, or UserConflict when its username or email is taken."""

    def __init__(self, users: UserRepository, clock: Clock, new_id: IdSource) -> None:
        self._users, self._clock, self._new_id = users, clock, new_id

    async def __call__(self, draft: Draft) -> User:
        now = self._clock()
        user = User(self._new_id(), Profile.parse(draft), created_at=now, updated_at=now)
        await self._users.add(user)
        return user


class RegisterUsers:
    """Registers a batch, all or nothing. Raises InvalidInput or UserConflict naming every failing
    item by index, duplicates inside the batch included; then nothing is written."""

    def __init__(self, users: UserRepository, clock: Clock, new_id: IdSource) -> None:
        self._users, self._clock, self._new_id = users, clock, new_id

    async def __call__(self, drafts: Sequence[Draft]) -> list[User]:
        profiles: list[Profile] = []
        errors: list[FieldError] = []
        for index, draft in enumerate(drafts):
            try:
                profiles.append(Profile.parse(draft, index=index))
            except InvalidInput as invalid:
                errors.extend(invalid.errors)
        if errors:
            raise InvalidInput(errors)
        now = self._clock()
        users = [User(self._new_id(), profile, created_at=now, updated_at=now) for profile in profiles]
        await self._users.add_many(users)
        return users
