"""The ports: what the use cases need from the outside world, shaped by them."""

from __future__ import annotations

from collections.abc import AsyncIterable, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from domain.credentials import Claims, IssuedToken, Password
from domain.idempotency import Claim, Completion, Reservation
from domain.listing import PageQuery, UserFilter
from domain.model import User


class UserRepository(Protocol):
    """Stores users. Any method may raise StorageUnavailable; none commits anything as a side effect."""

    async def add(self, user: User, once: Completion | None = None) -> None:
        """Raises UserConflict naming each field whose canonical key another user holds. With
        `once`, stores its answer in the same transaction (see IdempotencyKeys)."""

    async def add_many(self, users: Sequence[User]) -> None:
        """All or nothing. Raises UserConflict naming every (index, field) taken, by a stored user
        or by an earlier item of the batch; then nothing is written."""

    async def add_all(self, batches: AsyncIterable[Sequence[User]], once: Completion | None = None) -> int:
        """Every batch in one transaction, all or nothing; returns how many users were stored.
        Raises UserConflict as `add_many` does, indexes counted across all batches; then, or when
        `batches` itself raises, nothing is written. With `once`, as `add` does."""

    async def get(self, user_id: UUID) -> User | None: ...

    async def find_by_login(self, key: str) -> User | None:
        """The user whose username or email has this canonical key (no username holds an @, every
        email does, so at most one matches)."""

    async def list(self, query: PageQuery) -> list[User]:
        """Up to `query.limit` matching users in sort order, after `query.after` or past `query.offset`."""

    async def count(self, filter: UserFilter) -> int: ...

    async def has_admin(self) -> bool: ...

    async def update(self, user: User, *, previous: User) -> bool:
        """Replaces `previous` (the user as read) by `user` if the store still holds it at
        `previous.version`; False if it does not, or it is gone. Raises UserConflict as `add` does,
        and LastAdmin when `previous` is the only admin and `user` is not an admin."""

    async def remove(self, user: User) -> bool:
        """Removes `user` if the store still holds it at `user.version`; False if it does not, or
        it is gone. Raises LastAdmin when `user` is the only admin."""

    async def ping(self) -> None:
        """Returns once the store answers; raises StorageUnavailable otherwise."""


class IdempotencyKeys(Protocol):
    """Idempotency keys per owner: a claim while its write runs, then the write's answer, which the
    UserRepository stores with the users (`add(user, once)`: the claim's row, set to `answer` and
    `expires_at`, in the same transaction; IdempotencyInProgress, and nothing written, when the
    claim's token no longer holds the key unanswered). A key past its expiry counts as absent, and
    such keys are dropped as others come."""

    async def reserve(self, claim: Claim, now: datetime) -> Reservation:
        """Reserved when the key is free or past its expiry (the claim now holds it); else, by the
        stored fingerprint and answer: Reused (another fingerprint), Done, or Running."""

    async def abandon(self, claim: Claim) -> None:
        """Frees the key if this claim still holds it unanswered (never drops an answer)."""


class LoginAttempts(Protocol):
    """Failed logins per account, kept in storage so that every worker and replica counts them.
    A window begins at an account's first failure; once over, the next failure begins another."""

    async def failures(self, account: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        """The failures of the window open at `now`, and when it began (0 and `now` when none is)."""

    async def fail(self, account: str, now: datetime, window: timedelta) -> tuple[int, datetime]:
        """Counts one failure at `now`, atomically; returns the count and the window's start."""

    async def clear(self, account: str) -> None: ...


class PasswordHasher(Protocol):
    """Hashes and checks passwords off the event loop, a bounded number at a time."""

    async def hash(self, password: Password) -> str: ...

    async def verify(self, password: Password, password_hash: str | None) -> bool:
        """Whether it matches; with no hash (no such user, no password), the same work, then False."""

    def outdated(self, password_hash: str) -> bool:
        """Made by another algorithm or with other parameters: hash it again at the next login."""

    def recognizes(self, password_hash: str) -> bool:
        """A hash this hasher can verify (a PHC string of a supported algorithm)."""


class Tokens(Protocol):
    def issue(self, user: User) -> IssuedToken: ...

    def read(self, token: str) -> Claims:
        """The claims of a token this service signed; raises Unauthenticated for any other string,
        and for an expired token."""


class Clock(Protocol):
    def __call__(self) -> datetime:
        """Now, in UTC."""


class IdSource(Protocol):
    def __call__(self) -> UUID: ...
