"""The user and its rules. Values are checked once, here, whoever calls (HTTP, CLI, import)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from domain.errors import Conflict, FieldError, InvalidInput

# The rules, as constants that the HTTP schema also publishes (they are checked here, once).
USERNAME_MIN, USERNAME_MAX = 3, 32
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,30}[A-Za-z0-9]$"
EMAIL_MAX = 254
NAME_MAX = 100
# Cc, the control characters; with lone surrogates, what `unprintable` refuses in every field.
_CONTROL = r"\x00-\x1f\x7f-\x9f"
_TRIMMED = rf"[^\S{_CONTROL}]*"  # leading or trailing spaces, which are trimmed
EMAIL_PATTERN = rf"^{_TRIMMED}[^@\s{_CONTROL}]+@[^@\s.{_CONTROL}]+(\.[^@\s.{_CONTROL}]+)+{_TRIMMED}$"
PRINTABLE_PATTERN = rf"^[^{_CONTROL}]*$"
PROFILE_FIELDS = ("username", "email", "first_name", "last_name")

Draft = Mapping[str, str | None]
"""Fields as a client sent them, before any rule is checked: the profile's, and the credentials'
(`password`, `current_password`, `role`) where a use case takes them."""

_USERNAME = re.compile(USERNAME_PATTERN)
# Unicode's categories Cc (control) and Cs (surrogate), as one search in C rather than a loop in Python.
_UNPRINTABLE = re.compile(rf"[{_CONTROL}\ud800-\udfff]")
_EMAIL = re.compile(EMAIL_PATTERN)


def canonical(value: str) -> str:
    """The one comparison key: NFKC, case-folded, NFKC again (case-folding can denormalize).

    Every adapter compares these keys and never lower-cases on its own, because Python's and
    PostgreSQL's notions of lower case differ on some characters.
    """
    if value.isascii():  # the same, sooner: ASCII is NFKC already, and folds to its lower case
        return value.lower()
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


def unprintable(value: str) -> bool:
    """True for control characters (NUL included) and lone surrogates, which no field may hold."""
    return _UNPRINTABLE.search(value) is not None


@dataclass(frozen=True, slots=True)
class Profile:
    """What a client chooses about a user, valid by construction through `Profile.parse`."""

    username: str
    email: str
    first_name: str | None = None
    last_name: str | None = None
    # Derived once, here, and never by an adapter: see `canonical`.
    username_key: str = field(init=False, repr=False, compare=False)
    email_key: str = field(init=False, repr=False, compare=False)
    search_text: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        username_key, email_key, search_text = _keys(
            self.username, self.email, self.first_name, self.last_name
        )
        object.__setattr__(self, "username_key", username_key)
        object.__setattr__(self, "email_key", email_key)
        object.__setattr__(self, "search_text", search_text)

    @staticmethod
    def stored(
        username: str,
        email: str,
        first_name: str | None,
        last_name: str | None,
        username_key: str,
        email_key: str,
        search_text: str,
    ) -> Profile:
        """A profile as a store holds it: valid when it was written, its keys derived then (so a
        page read back costs no Unicode normalization)."""
        profile: Any = _new(_OPEN_PROFILE)  # see _open
        profile.username = username
        profile.email = email
        profile.first_name = first_name
        profile.last_name = last_name
        profile.username_key = username_key
        profile.email_key = email_key
        profile.search_text = search_text
        profile.__class__ = Profile
        return profile  # type: ignore[no-any-return]

    @classmethod
    def parse(cls, fields: Draft, *, index: int | None = None) -> Profile:
        """Checks and normalizes every field; raises InvalidInput naming all that are wrong."""
        username, email = fields.get("username"), fields.get("email")
        errors: list[FieldError] = []
        if username is None:
            errors.append(FieldError("username", "must not be null", index))
        elif not _USERNAME.fullmatch(username):  # the pattern admits no control character
            errors.append(
                FieldError("username", _CONTROL_RULE if unprintable(username) else _USERNAME_RULE, index)
            )
        if email is None:
            errors.append(FieldError("email", "must not be null", index))
        elif unprintable(email):
            errors.append(FieldError("email", _CONTROL_RULE, index))
        elif len(email) > EMAIL_MAX:
            errors.append(FieldError("email", f"must be at most {EMAIL_MAX} characters", index))
        elif not _EMAIL.fullmatch(email):
            errors.append(
                FieldError(
                    "email", "must be one local part, one @ and a domain with a dot, without spaces", index
                )
            )
        first_name = _name("first_name", fields.get("first_name"), errors, index)
        last_name = _name("last_name", fields.get("last_name"), errors, index)
        if errors:
            raise InvalidInput(errors)
        assert username is not None  # every None was an error above
        assert email is not None
        email = email.strip()
        return Profile.stored(
            username, email, first_name, last_name, *_keys(username, email, first_name, last_name)
        )

    def fields(self) -> dict[str, str | None]:
        return {name: getattr(self, name) for name in PROFILE_FIELDS}


class Role(StrEnum):
    MEMBER = "member"
    ADMIN = "admin"

    @classmethod
    def parse(cls, value: str | None, *, index: int | None = None) -> Role:
        if value in _ROLES:
            return cls(value)
        raise InvalidInput([FieldError("role", "must be member or admin", index)])


_ROLES = frozenset(Role)


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    profile: Profile
    created_at: datetime
    updated_at: datetime
    version: int = 1
    role: Role = Role.MEMBER
    # A PHC string (argon2id, or bcrypt when imported); None: the user cannot log in.
    password_hash: str | None = field(default=None, repr=False)
    # Goes up with every password or role change: tokens issued before it are revoked.
    credentials_version: int = 1
    # A memo for whoever shows this user (the HTTP layer keeps its JSON here): a user never changes,
    # so what is derived from it once holds for as long as the user lives. Never compared or shown.
    shown: object = field(default=None, init=False, repr=False, compare=False)

    @staticmethod
    def stored(
        id: UUID,
        profile: Profile,
        created_at: datetime,
        updated_at: datetime,
        version: int,
        role: Role,
        password_hash: str | None,
        credentials_version: int,
    ) -> User:
        """A user as a store holds it, every field given (a page reads 50 of them)."""
        user: Any = _new(_OPEN_USER)  # see _open
        user.id = id
        user.profile = profile
        user.created_at = created_at
        user.updated_at = updated_at
        user.version = version
        user.role = role
        user.password_hash = password_hash
        user.credentials_version = credentials_version
        user.shown = None
        user.__class__ = User
        return user  # type: ignore[no-any-return]

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    def changed(
        self,
        now: datetime,
        *,
        profile: Profile | None = None,
        role: Role | None = None,
        password_hash: str | None = None,
    ) -> User:
        """The next version; a new role or password also revokes the tokens issued before it."""
        credentials = (role is not None and role != self.role) or password_hash is not None
        return replace(
            self,
            profile=profile or self.profile,
            role=role or self.role,
            password_hash=password_hash or self.password_hash,
            updated_at=now,
            version=self.version + 1,
            credentials_version=self.credentials_version + credentials,
        )


def _keys(username: str, email: str, first_name: str | None, last_name: str | None) -> tuple[str, str, str]:
    """A profile's derived fields: its username and email keys, and what `q` searches (every field's
    key, one per line: no field may hold a newline)."""
    username_key, email_key = canonical(username), canonical(email)
    names = [canonical(name) for name in (first_name, last_name) if name]
    return username_key, email_key, "\n".join([username_key, email_key, *names])


def _open(cls: type) -> type:
    """A plain class with the same slots as the frozen dataclass `cls`. `stored` fills one by
    ordinary attribute stores, which CPython runs straight into the slot, then makes it a `cls`
    (its layout is the same, so Python allows the class to change): half the cost of setting a
    frozen dataclass's fields one by one (a user and its profile: 1.65 -> 0.81 us). The object is
    frozen from then on; nothing else ever sees it open. (CPython allows the change only between
    classes of one layout: the same slots, no `__dict__`, the same base.)"""
    return type(f"_Open{cls.__name__}", (), {"__slots__": vars(cls)["__slots__"]})


_new = object.__new__
_OPEN_PROFILE = _open(Profile)
_OPEN_USER = _open(User)

_CONTROL_RULE = "must not contain control characters"
_USERNAME_RULE = (
    f"must be {USERNAME_MIN} to {USERNAME_MAX} of A-Z a-z 0-9 . _ -, "
    "starting and ending with a letter or digit"
)


def _name(field: str, value: str | None, errors: list[FieldError], index: int | None) -> str | None:
    if value is None:
        return None
    if unprintable(value):
        errors.append(FieldError(field, _CONTROL_RULE, index))
    elif len(value) > NAME_MAX:
        errors.append(FieldError(field, f"must be at most {NAME_MAX} characters", index))
    return value.strip() or None


def find_conflicts(
    profiles: Sequence[Profile], taken: Callable[[str, str], bool], *, indexed: bool
) -> list[Conflict]:
    """The one rule of uniqueness: a key is taken by a stored user (`taken(field, key)`) or by an
    earlier profile in the same batch. Adapters call this so that they all name the same conflicts."""
    seen: dict[str, set[str]] = {"username": set(), "email": set()}
    found = []
    for index, profile in enumerate(profiles):
        for name, key in (("username", profile.username_key), ("email", profile.email_key)):
            if key in seen[name] or taken(name, key):
                found.append(Conflict(name, index if indexed else None))
            seen[name].add(key)
    return found
