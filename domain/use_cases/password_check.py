from __future__ import annotations

from domain.credentials import LOGIN_LIMIT, LOGIN_WINDOW, Password
from domain.errors import TooManyAttempts
from domain.ports import Clock, LoginAttempts, PasswordHasher


class PasswordCheck:
    """Checks a password for an account, throttled: the attempt is counted before the hash is
    compared, so that many attempts at once cannot slip past the limit; a match clears the count.
    Raises TooManyAttempts while the account is over the limit, whatever the password."""

    def __init__(self, hasher: PasswordHasher, attempts: LoginAttempts, clock: Clock) -> None:
        self._hasher, self._attempts, self._clock = hasher, attempts, clock

    async def __call__(self, account: str, password_hash: str | None, given: Password) -> bool:
        now = self._clock()
        count, since = await self._attempts.count(account, now, LOGIN_WINDOW)
        if count > LOGIN_LIMIT:
            raise TooManyAttempts((since + LOGIN_WINDOW - now).total_seconds())
        matches = await self._hasher.verify(given, password_hash)
        if matches:
            await self._attempts.clear(account)
        return matches
