from __future__ import annotations

from datetime import datetime

from domain.credentials import LOGIN_LIMIT, LOGIN_WINDOW, Password
from domain.errors import TooManyAttempts
from domain.ports import Clock, LoginAttempts, PasswordHasher


class PasswordCheck:
    """Checks a password for an account, within the limit on failures: while an account has had
    LOGIN_LIMIT failures in the window, every attempt raises TooManyAttempts, whatever the password.
    A match clears the count, unless failures reached the limit while it was being compared (many
    guesses at once): then it is refused like the rest, so that a guesser learns nothing past it."""

    def __init__(self, hasher: PasswordHasher, attempts: LoginAttempts, clock: Clock) -> None:
        self._hasher, self._attempts, self._clock = hasher, attempts, clock

    async def __call__(self, account: str, password_hash: str | None, given: Password) -> bool:
        self._refuse_at_limit(*await self._attempts.failures(account, self._clock(), LOGIN_WINDOW))
        if not await self._hasher.verify(given, password_hash):
            count, since = await self._attempts.fail(account, self._clock(), LOGIN_WINDOW)
            if count > LOGIN_LIMIT:  # other attempts at once reached the limit first
                self._refuse_at_limit(count, since)
            return False
        self._refuse_at_limit(*await self._attempts.failures(account, self._clock(), LOGIN_WINDOW))
        await self._attempts.clear(account)
        return True

    def _refuse_at_limit(self, count: int, since: datetime) -> None:
        if count >= LOGIN_LIMIT:
            raise TooManyAttempts((since + LOGIN_WINDOW - self._clock()).total_seconds())
