"""The shapes of requests and responses. Pydantic checks shape (types, no unknown fields); the
domain checks the rules, whose constants are published here so the OpenAPI schema tells them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SecretStr,
    StringConstraints,
    WithJsonSchema,
)
from pydantic.json_schema import SkipJsonSchema

from domain.credentials import PASSWORD_MAX, PASSWORD_MIN
from domain.model import (
    EMAIL_MAX,
    EMAIL_PATTERN,
    NAME_MAX,
    PRINTABLE_PATTERN,
    USERNAME_MAX,
    USERNAME_MIN,
    USERNAME_PATTERN,
    Role,
)
from entrypoints.http.headers import ENTITY_TAG_LIST_PATTERN, ENTITY_TAGS_PATTERN


def _rule(**schema: Any) -> Any:
    return Field(json_schema_extra=schema)


Username = Annotated[str, _rule(minLength=USERNAME_MIN, maxLength=USERNAME_MAX, pattern=USERNAME_PATTERN)]
Email = Annotated[str, _rule(maxLength=EMAIL_MAX, pattern=EMAIL_PATTERN, examples=["ada@example.com"])]
Name = Annotated[
    str | None, _rule(maxLength=NAME_MAX, pattern=PRINTABLE_PATTERN, description="trimmed; empty means null")
]
# Write-only: SecretStr keeps it out of every repr, log and error; no answer carries it.
NewPassword = Annotated[
    SecretStr,
    _rule(
        minLength=PASSWORD_MIN,
        maxLength=PASSWORD_MAX,
        pattern=PRINTABLE_PATTERN,
        format="password",
        writeOnly=True,
        description="NFKC-normalized; no control characters",
    ),
]
CurrentPassword = Annotated[
    SecretStr | None,
    _rule(
        format="password",
        writeOnly=True,
        description="needed by a member changing their own password; read only with `password`",
    ),
]
# If-Match and If-None-Match (optional): `*` or entity tags. The schema spells out the two forms, as
# RFC 9110 does (`"*" / #entity-tag`), so that a client or a fuzzer that cannot draw a value from the
# pattern still has the `*` to send.
EntityTags = Annotated[
    Annotated[str, StringConstraints(pattern=ENTITY_TAGS_PATTERN)] | None,
    WithJsonSchema({"type": "string", "anyOf": [{"const": "*"}, {"pattern": ENTITY_TAG_LIST_PATTERN}]}),
]
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda moment: moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def _revealed(fields: dict[str, Any]) -> dict[str, Any]:
    """What the domain reads: secrets as plain strings, the role as its name."""
    return {
        name: value.get_secret_value() if isinstance(value, SecretStr) else value
        for name, value in fields.items()
    }


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Username
    email: Email
    first_name: Name = None
    last_name: Name = None
    password: NewPassword | None = None
    role: Role | None = Field(default=None, description="only an admin may set it; default member")

    def draft(self) -> dict[str, Any]:
        """What the domain reads (from the attributes: a bulk of 1,000 makes 1,000 of these)."""
        password = self.password
        return {
            "username": self.username,
            "email": self.email,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "password": None if password is None else password.get_secret_value(),
            "role": self.role,
        }


class UserPatch(BaseModel):
    """JSON Merge Patch (RFC 7396): absent keys stay, null clears a name."""

    model_config = ConfigDict(extra="forbid")

    # null reaches the domain, which answers that username and email cannot be cleared.
    username: Username | SkipJsonSchema[None] = None
    email: Email | SkipJsonSchema[None] = None
    first_name: Name = None
    last_name: Name = None
    password: NewPassword | SkipJsonSchema[None] = None
    current_password: CurrentPassword = None
    role: Role | SkipJsonSchema[None] = Field(default=None, description="only an admin may set it")

    def draft(self) -> dict[str, Any]:
        return _revealed(self.model_dump(exclude_unset=True))


class UserOut(BaseModel):
    id: UUID
    username: str
    email: str
    first_name: str | None
    last_name: str | None
    created_at: Timestamp
    updated_at: Timestamp
    version: int
    role: Role
    has_password: bool


class UserList(BaseModel):
    items: list[UserOut]


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")
    total: int | SkipJsonSchema[None] = Field(default=None, description="only with include_total=true")


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="seconds")


class Health(BaseModel):
    status: str


class FieldProblem(BaseModel):
    field: str
    message: str
    index: int | None = Field(default=None, description="the item of a bulk request")


class ConflictProblem(BaseModel):
    field: str
    index: int | None = Field(default=None, description="the item of a bulk request")


class Problem(BaseModel):
    """RFC 9457 problem details, with a stable machine-readable `code`."""

    type: str
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = Field(default=None, description="with 422")
    conflicts: list[ConflictProblem] | None = Field(default=None, description="with 409")
    error: str | None = Field(default=None, description="the OAuth 2.0 error code, from the token endpoint")
