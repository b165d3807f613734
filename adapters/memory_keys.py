"""Idempotency keys in memory, for development and fast tests: the same answers as every adapter
(tests/contract proves it). The in-memory UserRepository completes a claim here as it stores the
users, in the same step (nothing awaits in between)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.errors import IdempotencyInProgress
from domain.idempotency import Claim, Completion, Done, Reservation, Reserved, Reused, Running
from domain.model import User

_RESERVED, _RUNNING, _REUSED = Reserved(), Running(), Reused()


@dataclass(frozen=True, slots=True)
class _Kept:
    fingerprint: str
    token: UUID
    expires_at: datetime  # the claim's end while unanswered; then the answer's
    answer: bytes | None = None


class InMemoryIdempotencyKeys:
    def __init__(self) -> None:
        # In the order they were last written, which is nearly the order they expire in.
        self._kept: dict[tuple[str, str], _Kept] = {}

    async def reserve(self, claim: Claim, now: datetime) -> Reservation:
        self._purge(now)
        place = (claim.owner, claim.key)
        kept = self._kept.get(place)
        if kept is None or kept.expires_at <= now:
            self._put(place, _Kept(claim.fingerprint, claim.token, claim.until))
            return _RESERVED
        if kept.fingerprint != claim.fingerprint:
            return _REUSED
        return _RUNNING if kept.answer is None else Done(kept.answer)

    async def abandon(self, claim: Claim) -> None:
        if self._holds(claim):
            del self._kept[(claim.owner, claim.key)]

    def complete(self, once: Completion, users: Sequence[User]) -> None:
        """Stores the answer of `once`; raises IdempotencyInProgress, changing nothing, unless its
        claim still holds the key unanswered."""
        claim = once.claim
        if not self._holds(claim):
            raise IdempotencyInProgress()
        self._put(
            (claim.owner, claim.key),
            _Kept(claim.fingerprint, claim.token, once.expires_at, once.answer(users)),
        )

    def _holds(self, claim: Claim) -> bool:
        kept = self._kept.get((claim.owner, claim.key))
        return kept is not None and kept.token == claim.token and kept.answer is None

    def _put(self, place: tuple[str, str], kept: _Kept) -> None:
        self._kept.pop(place, None)
        self._kept[place] = kept

    def _purge(self, now: datetime) -> None:
        """Drops the expired keys at the front (the oldest written; one written later may expire
        sooner, a claim's short hold, and is counted as absent until it is dropped)."""
        expired = list(itertools.takewhile(lambda item: item[1].expires_at <= now, self._kept.items()))
        for place, _ in expired:
            del self._kept[place]
