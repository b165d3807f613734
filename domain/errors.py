"""What can go wrong, as data. No HTTP here: the entrypoints decide how each error is told."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str
    index: int | None = None


@dataclass(frozen=True, slots=True)
class Conflict:
    field: str
    index: int | None = None


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""


class InvalidInput(DomainError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(f"{len(errors)} invalid field(s)")
        self.errors = tuple(errors)


class UserNotFound(DomainError):
    def __init__(self, user_id: UUID) -> None:
        super().__init__(f"user {user_id} not found")
        self.user_id = user_id


class UserConflict(DomainError):
    """A username or email is already taken; names the fields, never their values."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__("username or email taken")
        self.conflicts = tuple(sorted(conflicts, key=_conflict_order))


class VersionMismatch(DomainError):
    def __init__(self, user_id: UUID) -> None:
        super().__init__(f"user {user_id} has another version")
        self.user_id = user_id


class InvalidCursor(DomainError):
    """The cursor is malformed, or it came from another sort or other filters."""


class CursorWithOffset(DomainError):
    def __init__(self) -> None:
        super().__init__("a cursor cannot be combined with an offset")


class StorageUnavailable(DomainError):
    """The store did not answer in time, refused, or lost the connection."""


class Unauthenticated(DomainError):
    """No token, or one that is malformed, expired, tampered with or revoked."""


class Forbidden(DomainError):
    """The caller is known but their role does not allow this."""


class InvalidGrant(DomainError):
    """Wrong password, unknown user, or a user without a password: one answer for all three."""

    def __init__(self) -> None:
        super().__init__("the credentials do not match")


class TooManyAttempts(DomainError):
    def __init__(self, retry_after: float) -> None:
        super().__init__("too many failed logins")
        self.retry_after = retry_after  # seconds until the window passes


class LastAdmin(DomainError):
    """The change would leave the store without an admin."""

    def __init__(self, user_id: UUID) -> None:
        super().__init__(f"user {user_id} is the last admin")
        self.user_id = user_id


class IdempotencyKeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__("the idempotency key was used with another request")


class IdempotencyInProgress(DomainError):
    """Another request with this idempotency key is still running."""

    def __init__(self) -> None:
        super().__init__("a request with this idempotency key is still running")


def _conflict_order(conflict: Conflict) -> tuple[int, int]:
    return (-1 if conflict.index is None else conflict.index, 0 if conflict.field == "username" else 1)
