from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from domain.access import Caller
from domain.errors import Unauthenticated
from domain.ports import Clock, Tokens, UserRepository

_REMEMBERED = 10_000  # users whose credentials version is kept at once; then they are read again


class Authenticate:
    """The caller a bearer token stands for. Raises Unauthenticated for a token that is not one of
    ours, has expired, or was revoked: its user is gone, or changed password or role since. Each
    user's credentials version is read at most once per `revocation_delay`, which bounds how long a
    revoked token still works."""

    def __init__(
        self, tokens: Tokens, users: UserRepository, clock: Clock, revocation_delay: timedelta
    ) -> None:
        self._tokens, self._users, self._clock, self._delay = tokens, users, clock, revocation_delay
        self._versions: dict[UUID, tuple[int | None, datetime]] = {}

    async def __call__(self, token: str) -> Caller:
        claims = self._tokens.read(token)
        now = self._clock()
        known = self._versions.get(claims.user_id)
        if known is None or now - known[1] >= self._delay:
            user = await self._users.get(claims.user_id)
            known = (None if user is None else user.credentials_version, now)
            if len(self._versions) >= _REMEMBERED:
                self._versions.clear()
            self._versions[claims.user_id] = known
        if known[0] != claims.credentials_version:
            raise Unauthenticated("the token was revoked")
        return Caller(claims.user_id, claims.role)
