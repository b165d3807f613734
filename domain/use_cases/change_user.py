from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

from domain.access import Caller
from domain.credentials import Password
from domain.errors import FieldError, Forbidden, InvalidInput, UserNotFound, VersionMismatch
from domain.model import PROFILE_FIELDS, Draft, Profile, Role, User
from domain.ports import Clock, PasswordHasher, UserRepository
from domain.use_cases.password_check import PasswordCheck

_ATTEMPTS = 5


class ChangeUser:
    """Applies a merge patch: absent fields stay, None clears a name (and is invalid for username or
    email). A patch that changes nothing keeps the version. A member changes only themselves, never
    their role, and their password only with `current_password`; an admin changes anyone, roles and
    passwords included. Raises UserNotFound (also for a member naming anyone else), Forbidden,
    InvalidInput, UserConflict, LastAdmin, TooManyAttempts (wrong current passwords count as failed
    logins), and VersionMismatch when the stored version is not one of `expected_versions`."""

    def __init__(
        self, users: UserRepository, clock: Clock, hasher: PasswordHasher, check: PasswordCheck
    ) -> None:
        self._users, self._clock, self._hasher, self._check = users, clock, hasher, check

    async def __call__(
        self,
        caller: Caller,
        user_id: UUID,
        changes: Draft,
        expected_versions: Collection[int] | None = None,
    ) -> User:
        if not caller.sees(user_id):
            raise UserNotFound(user_id)
        if "role" in changes and not caller.is_admin:
            raise Forbidden("only an admin may set a role")
        role, password, invalid = _credentials(changes)
        password_hash = None
        # Without a precondition, a concurrent change is merged with by reading again.
        for _ in range(_ATTEMPTS if expected_versions is None else 1):
            user = await self._users.get(user_id)
            if user is None:
                raise UserNotFound(user_id)
            try:
                profile = Profile.parse({**user.profile.fields(), **_profile(changes)})
            except InvalidInput as wrong:
                invalid += wrong.errors
            if invalid:
                raise InvalidInput(invalid)  # 422 before 412
            if expected_versions is not None and user.version not in expected_versions:
                raise VersionMismatch(user_id)
            if password is not None and password_hash is None:
                if not caller.is_admin:
                    await self._prove(user, changes.get("current_password"))
                password_hash = await self._hasher.hash(password)
            if profile == user.profile and role in (None, user.role) and password_hash is None:
                return user
            changed = user.changed(self._clock(), profile=profile, role=role, password_hash=password_hash)
            if await self._users.update(changed, previous=user):
                return changed
        raise VersionMismatch(user_id)

    async def _prove(self, user: User, current: str | None) -> None:
        """A member's own password changes only with the current one (when there is one)."""
        if user.password_hash is None:
            return
        if current is None or not await self._check(
            str(user.id), user.password_hash, Password.given(current)
        ):
            raise InvalidInput([FieldError("current_password", "does not match the current password")])


def _profile(changes: Draft) -> Draft:
    return {name: value for name, value in changes.items() if name in PROFILE_FIELDS}


def _credentials(changes: Draft) -> tuple[Role | None, Password | None, list[FieldError]]:
    """The role and password a patch sets, and what is wrong with them."""
    errors: list[FieldError] = []
    role = password = None
    if "role" in changes:
        try:
            role = Role.parse(changes["role"])
        except InvalidInput as invalid:
            errors += invalid.errors
    if "password" in changes:
        try:
            password = Password.parse(changes["password"])
        except InvalidInput as invalid:
            errors += invalid.errors
    return role, password, errors
