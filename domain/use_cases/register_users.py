from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import overload

from domain.access import Caller
from domain.credentials import Password
from domain.errors import FieldError, Forbidden, InvalidInput, Unauthenticated
from domain.idempotency import Completion, Once, Replays
from domain.model import Draft, Profile, Role, User
from domain.ports import Clock, IdSource, PasswordHasher, UserRepository


class RegisterUser:
    """Registers one user. An admin may set any role; anyone else registers a member, and only when
    registration is open (no caller: Unauthenticated; a member: Forbidden). Raises InvalidInput, or
    UserConflict when the username or email is taken. With `once` (an idempotency key), returns
    the answer told of the user, once stored or as stored before (see Replays)."""

    def __init__(
        self,
        users: UserRepository,
        clock: Clock,
        new_id: IdSource,
        hasher: PasswordHasher,
        *,
        open_registration: bool = False,
        replays: Replays | None = None,
    ) -> None:
        self._users, self._clock, self._new_id, self._hasher = users, clock, new_id, hasher
        self._open, self._replays = open_registration, replays

    @overload
    async def __call__(self, caller: Caller | None, draft: Draft) -> User: ...
    @overload
    async def __call__(self, caller: Caller | None, draft: Draft, once: Once) -> bytes: ...
    async def __call__(self, caller: Caller | None, draft: Draft, once: Once | None = None) -> User | bytes:
        if caller is None or not caller.is_admin:
            if not self._open:
                raise Unauthenticated("a token is needed") if caller is None else Forbidden("admins only")
            if draft.get("role") is not None:
                raise Forbidden("only an admin may set a role")
        profile, password, role = parse_new_user(draft)

        async def store(completion: Completion | None = None) -> list[User]:
            password_hash = None if password is None else await self._hasher.hash(password)
            now = self._clock()
            user = User.stored(self._new_id(), profile, now, now, 1, role, password_hash, 1)
            await self._users.add(user, completion)
            return [user]

        if once is None:
            return (await store())[0]
        assert self._replays is not None, "keyed writes need Replays"
        return await self._replays(caller, once, ["user", _given(draft)], store)


class RegisterUsers:
    """Registers a batch, all or nothing; admins only. Raises InvalidInput or UserConflict naming
    every failing item by index, duplicates inside the batch included; then nothing is written.
    With `once` (an idempotency key), returns the answer told of the users (see Replays)."""

    def __init__(
        self,
        users: UserRepository,
        clock: Clock,
        new_id: IdSource,
        hasher: PasswordHasher,
        *,
        replays: Replays | None = None,
    ) -> None:
        self._users, self._clock, self._new_id, self._hasher = users, clock, new_id, hasher
        self._replays = replays

    @overload
    async def __call__(self, caller: Caller, drafts: Sequence[Draft]) -> list[User]: ...
    @overload
    async def __call__(self, caller: Caller, drafts: Sequence[Draft], once: Once) -> bytes: ...
    async def __call__(
        self, caller: Caller, drafts: Sequence[Draft], once: Once | None = None
    ) -> list[User] | bytes:
        caller.must_be_admin()
        if once is None:
            return await self._store(drafts)
        assert self._replays is not None, "keyed writes need Replays"
        request = ["users", [_given(draft) for draft in drafts]]
        return await self._replays(caller, once, request, lambda completion: self._store(drafts, completion))

    async def _store(self, drafts: Sequence[Draft], once: Completion | None = None) -> list[User]:
        now = self._clock()
        users: list[User] = []
        errors: list[FieldError] = []

        async def batches() -> AsyncIterator[list[User]]:
            # Made while the store takes the ones before; a bad draft stops the writing, and the
            # rest are still checked, so that every bad one is named.
            for start in range(0, len(drafts), _BATCH):
                parsed = []
                for index, draft in enumerate(drafts[start : start + _BATCH], start):
                    try:
                        parsed.append(parse_new_user(draft, index=index))
                    except InvalidInput as invalid:
                        errors.extend(invalid.errors)
                if errors:
                    continue
                hashes = await self._hashes([password for _, password, _ in parsed])
                batch = [
                    User.stored(self._new_id(), profile, now, now, 1, role, hashes.get(index), 1)
                    for index, (profile, _, role) in enumerate(parsed)
                ]
                users.extend(batch)
                yield batch
            if errors:
                raise InvalidInput(errors)

        await self._users.add_all(batches(), once)
        return users

    async def _hashes(self, passwords: list[Password | None]) -> dict[int, str]:
        """The hashes of the passwords given, by their index, computed at once (the hasher bounds
        how many run together)."""
        given = [(index, password) for index, password in enumerate(passwords) if password is not None]
        hashes = await asyncio.gather(*(self._hasher.hash(password) for _, password in given))
        return {index: password_hash for (index, _), password_hash in zip(given, hashes, strict=True)}


def _given(draft: Draft) -> dict[str, str]:
    """The fields a request sets (an absent field and a null one are the same request)."""
    return {name: value for name, value in draft.items() if value is not None}


def parse_new_user(draft: Draft, *, index: int | None = None) -> tuple[Profile, Password | None, Role]:
    """The profile, password and role of a new user; raises InvalidInput naming every wrong field."""
    errors: list[FieldError] = []
    profile, password, role = None, None, Role.MEMBER
    try:
        profile = Profile.parse(draft, index=index)
    except InvalidInput as invalid:
        errors += invalid.errors
    if draft.get("password") is not None:
        try:
            password = Password.parse(draft["password"], index=index)
        except InvalidInput as invalid:
            errors += invalid.errors
    if draft.get("role") is not None:
        try:
            role = Role.parse(draft["role"], index=index)
        except InvalidInput as invalid:
            errors += invalid.errors
    if errors or profile is None:
        raise InvalidInput(errors)
    return profile, password, role


_BATCH = 1000
