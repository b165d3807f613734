from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

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
        now = self._clock()
        users: list[User] = []
        errors: list[FieldError] = []

        async def batches() -> AsyncIterator[list[User]]:
            # Made while the store takes the ones before; a bad draft stops the writing, and the
            # rest are still checked, so that every bad one is named.
            for start in range(0, len(drafts), _BATCH):
                batch = []
                for index, draft in enumerate(drafts[start : start + _BATCH], start):
                    try:
                        profile = Profile.parse(draft, index=index)
                    except InvalidInput as invalid:
                        errors.extend(invalid.errors)
                        continue
                    batch.append(User(self._new_id(), profile, created_at=now, updated_at=now))
                users.extend(batch)
                if not errors:
                    yield batch
            if errors:
                raise InvalidInput(errors)

        await self._users.add_all(batches())
        return users


_BATCH = 1000
