from __future__ import annotations

import hashlib
from dataclasses import replace

from domain.credentials import IssuedToken, Password
from domain.errors import InvalidGrant
from domain.model import canonical, unprintable
from domain.ports import PasswordHasher, Tokens, UserRepository
from domain.use_cases.password_check import PasswordCheck


class IssueToken:
    """Logs in by username or email (either without regard to case) and password. An unknown user,
    a user without a password and a wrong password all raise the same InvalidGrant, after the same
    work (one lookup, one counted attempt, one hash comparison). Raises TooManyAttempts after too
    many failures. A hash made with older parameters is replaced by a current one."""

    def __init__(
        self, users: UserRepository, check: PasswordCheck, hasher: PasswordHasher, tokens: Tokens
    ) -> None:
        self._users, self._check, self._hasher, self._tokens = users, check, hasher, tokens

    async def __call__(self, login: str, password: str) -> IssuedToken:
        key = canonical(login.strip())
        user = None if unprintable(login) or not key else await self._users.find_by_login(key)
        # Unknown names are throttled too, so that a 429 tells nothing either; under a digest of
        # the name, as what people type there is sometimes a password (and may hold anything).
        account = (
            str(user.id)
            if user is not None
            else "login:" + hashlib.sha256(key.encode(errors="surrogatepass")).hexdigest()
        )
        given = Password.given(password)
        if not await self._check(account, None if user is None else user.password_hash, given):
            raise InvalidGrant()
        assert user is not None
        assert user.password_hash is not None
        if self._hasher.outdated(user.password_hash):
            upgraded = await self._hasher.hash(given)
            # Same version and credentials: nothing a client sees has changed. A lost race (the
            # user changed meanwhile) leaves the old hash, to be replaced at the next login.
            await self._users.update(replace(user, password_hash=upgraded), previous=user)
        return self._tokens.issue(user)
