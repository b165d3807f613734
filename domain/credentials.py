"""How a user proves who they are: passwords, the login limit, and what a token says."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from domain.errors import FieldError, InvalidInput
from domain.model import Role, unprintable

PASSWORD_MIN, PASSWORD_MAX = 12, 128
# Brute force: this many failed logins of one account within the window make the next ones wait.
LOGIN_LIMIT, LOGIN_WINDOW = 5, timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Password:
    """A password, NFKC-normalized. Its repr never shows it."""

    value: str = field(repr=False)

    @classmethod
    def parse(cls, raw: str | None, *, field: str = "password", index: int | None = None) -> Password:
        """A new password, by the rules: 12 to 128 characters as sent, none a control character, no
        composition rules. Raises InvalidInput naming `field`."""
        value = unicodedata.normalize("NFKC", raw or "")
        if raw is None:
            message = "must not be null"
        elif unprintable(raw) or unprintable(value):
            message = "must not contain control characters"
        elif not PASSWORD_MIN <= len(raw) <= PASSWORD_MAX:  # as sent, as the schema counts
            message = f"must be {PASSWORD_MIN} to {PASSWORD_MAX} characters"
        else:
            return cls(value)
        raise InvalidInput([FieldError(field, message, index)])

    @classmethod
    def given(cls, raw: str) -> Password:
        """A password as typed to prove who one is: normalized the same way, never refused (a
        wrong one simply does not match)."""
        return cls(unicodedata.normalize("NFKC", raw))


@dataclass(frozen=True, slots=True)
class Claims:
    """What a valid token says: who, in which role, at which credentials version."""

    user_id: UUID
    role: Role
    credentials_version: int


@dataclass(frozen=True, slots=True)
class IssuedToken:
    value: str = field(repr=False)
    expires_in: int  # seconds
