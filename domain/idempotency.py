"""Safe retries: a write sent with an Idempotency-Key is carried out once per caller and key, and
its answer is stored with the write (in the same transaction) and given again to every repeat."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from domain.access import Caller
from domain.errors import FieldError, IdempotencyInProgress, IdempotencyKeyReused, InvalidInput
from domain.model import User

if TYPE_CHECKING:  # the port speaks of this module's claims
    from domain.ports import IdempotencyKeys

KEY_MAX = 255
# 1 to 255 printable ASCII characters; no space at either end (HTTP would trim it away).
KEY_PATTERN = r"^[!-~](?:[ -~]{0,253}[!-~])?$"
KEEP = timedelta(hours=24)  # how long an answer is given again
_KEY = re.compile(KEY_PATTERN)


@dataclass(frozen=True, slots=True)
class Once:
    """A client's Idempotency-Key on a write, and how the entrypoint tells the write's answer
    (`tell(users)`: opaque bytes, stored as they are and given back to every repeat)."""

    key: str
    tell: Callable[[Sequence[User]], bytes]


@dataclass(frozen=True, slots=True)
class Claim:
    """The hold of one request on (owner, key), marked by its own token, until `until`."""

    owner: str
    key: str
    fingerprint: str
    token: UUID
    until: datetime


class Completion:
    """What a repository writes with the users of a keyed write, in the same transaction: the claim
    it fulfils (IdempotencyInProgress when that claim is no longer held) and its answer, kept until
    `expires_at`."""

    __slots__ = ("_answer", "_tell", "claim", "expires_at")

    def __init__(self, claim: Claim, tell: Callable[[Sequence[User]], bytes], expires_at: datetime) -> None:
        self.claim, self._tell, self.expires_at = claim, tell, expires_at
        self._answer: bytes | None = None

    def answer(self, users: Sequence[User]) -> bytes:
        """The answer telling these users (told once: the bytes stored are the bytes sent)."""
        if self._answer is None:
            self._answer = self._tell(users)
        return self._answer


@dataclass(frozen=True, slots=True)
class Reserved:
    """The claim is held: carry out the write with its Completion, or abandon it."""


@dataclass(frozen=True, slots=True)
class Done:
    answer: bytes


@dataclass(frozen=True, slots=True)
class Running:
    """Another request holds the key, and its write is not done."""


@dataclass(frozen=True, slots=True)
class Reused:
    """The key was used with another request."""


Reservation = Reserved | Done | Running | Reused


def owner_of(caller: Caller | None) -> str:
    """Whose keys these are: a user's, the operator's, or anyone's without a token."""
    if caller is None:
        return "anonymous"
    return "operator" if caller.user_id is None else f"user:{caller.user_id}"


def check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise InvalidInput([FieldError("idempotency-key", _KEY_RULE)])
    return key


class Replays:
    """Runs a keyed write once: the first request reserves the key, writes, and stores its answer
    with the write; a repeat with the same request gets that answer; another request with the key
    is IdempotencyKeyReused; a repeat while the first runs is IdempotencyInProgress. A write that
    fails gives the key back, so that a retry carries it out afresh."""

    def __init__(
        self,
        keys: IdempotencyKeys,
        clock: Callable[[], datetime],
        new_id: Callable[[], UUID],
        *,
        secret: bytes,
        lease: timedelta,
    ) -> None:
        self._keys, self._clock, self._new_id, self._lease = keys, clock, new_id, lease
        # Requests hold passwords: only a keyed digest of them is stored, never a plain hash.
        self._secret = hmac.digest(secret, b"users-api idempotency fingerprints", "sha256")

    async def __call__(
        self,
        caller: Caller | None,
        once: Once,
        request: object,
        write: Callable[[Completion], Awaitable[Sequence[User]]],
    ) -> bytes:
        now = self._clock()
        claim = Claim(
            owner_of(caller),
            check_key(once.key),
            self._fingerprint(request),
            self._new_id(),
            now + self._lease,
        )
        reservation = await self._keys.reserve(claim, now)
        if isinstance(reservation, Done):
            return reservation.answer
        if isinstance(reservation, Running):
            raise IdempotencyInProgress()
        if isinstance(reservation, Reused):
            raise IdempotencyKeyReused()
        completion = Completion(claim, once.tell, now + KEEP)
        try:
            users = await write(completion)
        except BaseException:
            with suppress(Exception):  # the store may be down: then the claim lapses at `until`
                await self._keys.abandon(claim)
            raise
        return completion.answer(users)

    def _fingerprint(self, request: object) -> str:
        canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hmac.new(self._secret, canonical.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


_KEY_RULE = f"must be 1 to {KEY_MAX} printable ASCII characters, without a space at either end"
