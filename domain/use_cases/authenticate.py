from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from domain.access import Caller
from domain.errors import Unauthenticated
from domain.ports import Clock, Tokens, UserRepository


class Reading(NamedTuple):
    version: int | None  # None: no such user
    at: datetime


class RecentVersions:
    """Users' credentials versions as read lately, each trusted for `delay` after its reading: the
    bound on how long a revoked token still works, and what spares a read per request."""

    _KEPT = 10_000  # users remembered at once; past that, all are read again

    def __init__(self, delay: timedelta) -> None:
        self._delay = delay
        self._readings: dict[UUID, Reading] = {}

    def recall(self, user_id: UUID, now: datetime) -> Reading | None:
        """The reading of this user still trusted at `now`, if any."""
        reading = self._readings.get(user_id)
        return reading if reading is not None and now - reading.at < self._delay else None

    def remember(self, user_id: UUID, version: int | None, now: datetime) -> Reading:
        if len(self._readings) >= self._KEPT:
            self._readings.clear()
        reading = self._readings[user_id] = Reading(version, now)
        return reading


class Authenticate:
    """The caller a bearer token stands for. Raises Unauthenticated for a token that is not one of
    ours, has expired, or was revoked: its user is gone, or changed password or role since (as
    read within the delay of `recent`)."""

    def __init__(self, tokens: Tokens, users: UserRepository, clock: Clock, recent: RecentVersions) -> None:
        self._tokens, self._users, self._clock, self._recent = tokens, users, clock, recent

    async def __call__(self, token: str) -> Caller:
        claims = self._tokens.read(token)
        now = self._clock()
        reading = self._recent.recall(claims.user_id, now)
        if reading is None:
            user = await self._users.get(claims.user_id)
            version = None if user is None else user.credentials_version
            reading = self._recent.remember(claims.user_id, version, now)
        if reading.version != claims.credentials_version:
            raise Unauthenticated("the token was revoked")
        return Caller(claims.user_id, claims.role)
