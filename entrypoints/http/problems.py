"""Every error the API answers, as application/problem+json (RFC 9457), mapped in ONE table."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match

from domain.errors import (
    CursorWithOffset,
    DomainError,
    Forbidden,
    IdempotencyInProgress,
    IdempotencyKeyReused,
    InvalidCursor,
    InvalidGrant,
    InvalidInput,
    LastAdmin,
    StorageUnavailable,
    TooManyAttempts,
    Unauthenticated,
    UserConflict,
    UserNotFound,
    VersionMismatch,
)

MEDIA_TYPE = "application/problem+json"
RETRY_AFTER_SECONDS = "1"


@dataclass(frozen=True, slots=True)
class Kind:
    status: int
    code: str
    title: str
    detail: str


VALIDATION_FAILED = Kind(422, "validation_failed", "Invalid request", "Some fields are invalid; see errors.")
INTERNAL_ERROR = Kind(500, "internal_error", "Internal error", "The request failed; the log has the detail.")
SHUTTING_DOWN = Kind(
    503, "shutting_down", "Shutting down", "The service stopped before it could finish; retry the request."
)
INVALID_HOST = Kind(400, "invalid_host", "Invalid host", "The Host header names no host this service serves.")
OVER_CAPACITY = Kind(
    503,
    "over_capacity",
    "Over capacity",
    "The service holds as many connections and requests as it takes; retry after a moment.",
)
STORAGE_UNAVAILABLE = Kind(
    503, "storage_unavailable", "Storage unavailable", "The store did not answer; retry after a moment."
)

# The one table: domain errors first, then what HTTP itself can answer.
DOMAIN_KINDS: dict[type[DomainError], Kind] = {
    InvalidInput: VALIDATION_FAILED,
    UserNotFound: Kind(404, "user_not_found", "User not found", "No user has this id."),
    UserConflict: Kind(
        409, "user_conflict", "User already exists", "A user with this {fields} already exists."
    ),
    VersionMismatch: Kind(
        412,
        "version_mismatch",
        "Version mismatch",
        "The user has changed since the version given; read it again.",
    ),
    InvalidCursor: Kind(
        400, "invalid_cursor", "Invalid cursor", "{reason}; start again from the first page."
    ),
    CursorWithOffset: Kind(
        400, "invalid_cursor", "Invalid cursor", "A cursor cannot be combined with an offset; use one."
    ),
    StorageUnavailable: STORAGE_UNAVAILABLE,
    Unauthenticated: Kind(
        401,
        "unauthenticated",
        "Unauthenticated",
        "A valid bearer token is needed; POST /api/v1/auth/token gives one.",
    ),
    Forbidden: Kind(403, "forbidden", "Forbidden", "Your role does not allow this."),
    InvalidGrant: Kind(400, "invalid_grant", "Invalid grant", "The username or password is wrong."),
    TooManyAttempts: Kind(
        429,
        "too_many_attempts",
        "Too many attempts",
        "Too many failed logins for this account; retry after the seconds in Retry-After.",
    ),
    LastAdmin: Kind(409, "last_admin", "Last admin", "The last admin can be neither removed nor demoted."),
    IdempotencyKeyReused: Kind(
        422,
        "idempotency_key_reused",
        "Idempotency key reused",
        "This Idempotency-Key came with another request; a new request needs a new key.",
    ),
    IdempotencyInProgress: Kind(
        409,
        "idempotency_in_progress",
        "Request in progress",
        "A request with this Idempotency-Key is still running; retry after the seconds in Retry-After.",
    ),
}
# The token endpoint's own refusals (RFC 6749, 5.2), with `error` as OAuth clients read it.
OAUTH_KINDS = {
    "invalid_request": Kind(
        400, "invalid_request", "Invalid request", "Send grant_type=password, username and password."
    ),
    "unsupported_grant_type": Kind(
        400, "unsupported_grant_type", "Unsupported grant type", "Only grant_type=password is supported."
    ),
}
HTTP_KINDS: dict[int, Kind] = {
    400: Kind(400, "bad_request", "Bad request", "The request could not be read."),
    404: Kind(404, "not_found", "Not found", "Nothing is at this path."),
    405: Kind(405, "method_not_allowed", "Method not allowed", "See the Allow header for the methods."),
    408: Kind(408, "request_timeout", "Request timeout", "The request body did not arrive in time."),
    413: Kind(413, "payload_too_large", "Payload too large", "The body exceeds 1 MiB (1,048,576 bytes)."),
    415: Kind(415, "unsupported_media_type", "Unsupported media type", "Send the body as {expected}."),
}

# Pydantic's messages are kept, except those that quote part of the input back.
_QUOTING_TYPES = {"uuid_parsing": "Input should be a valid UUID", "json_invalid": "Body is not valid JSON"}


def problem(kind: Kind, *, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {
        "type": "/problems/" + kind.code.replace("_", "-"),
        "title": kind.title,
        "status": kind.status,
        "detail": kind.detail.format(**extra),
        "code": kind.code,
    }
    body.update((key, value) for key, value in extra.items() if key in ("errors", "conflicts", "error"))
    if kind.status == 503:
        headers = {**(headers or {}), "Retry-After": RETRY_AFTER_SECONDS}
    return JSONResponse(body, status_code=kind.status, headers=headers, media_type=MEDIA_TYPE)


async def domain_error(request: Request, error: Exception) -> JSONResponse:
    kind = next(kind for cls, kind in DOMAIN_KINDS.items() if isinstance(error, cls))
    if isinstance(error, InvalidInput):
        errors = [_field_error(e.field, e.message, e.index) for e in error.errors]
        return problem(kind, errors=errors)
    if isinstance(error, UserConflict):
        fields = " and ".join(dict.fromkeys(c.field for c in error.conflicts))
        conflicts = [_drop_none({"field": c.field, "index": c.index}) for c in error.conflicts]
        return problem(kind, fields=fields, conflicts=conflicts)
    if isinstance(error, Unauthenticated):
        # RFC 6750, 3: the challenge, and with a token that was sent, why it failed.
        sent = "authorization" in request.headers
        return problem(
            kind, headers={"WWW-Authenticate": 'Bearer error="invalid_token"' if sent else "Bearer"}
        )
    if isinstance(error, IdempotencyInProgress):
        return problem(kind, headers={"Retry-After": RETRY_AFTER_SECONDS})
    if isinstance(error, TooManyAttempts):
        return problem(kind, headers={"Retry-After": str(max(1, math.ceil(error.retry_after)))})
    if isinstance(error, InvalidGrant):
        return problem(kind, error=kind.code)
    return problem(kind, reason=str(error))


class OAuthError(Exception):
    """The token endpoint refuses a request it cannot read as a password grant."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.kind = OAUTH_KINDS[code]


async def oauth_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, OAuthError)
    return problem(error.kind, error=error.kind.code)


async def validation_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = []
    for detail in error.errors():
        location = list(detail["loc"])
        if location and location[0] in ("body", "query", "path", "header"):
            source = location.pop(0)
            if detail["type"] == "json_invalid":
                location = []  # its location is a character offset, not a field
        else:
            source = "body"
        index = location.pop(0) if location and isinstance(location[0], int) else None
        field = ".".join(str(part) for part in location) or source
        errors.append(_field_error(field, _QUOTING_TYPES.get(detail["type"], detail["msg"]), index))
    return problem(VALIDATION_FAILED, errors=errors)


# FastAPI answers a bare 400 when its JSON parser raises anything but a syntax error. Each of these
# is a body that cannot be taken as it is, so it is a 422 on the body like any other invalid body
# (no valid body is deeper than an array of objects of strings, so the depth rule takes nothing away).
_UNREADABLE_BODIES = (
    (UnicodeDecodeError, _QUOTING_TYPES["json_invalid"]),  # RFC 8259 requires UTF-8
    (RecursionError, "Body is nested too deeply"),  # about 1,000 levels: Python's recursion limit
    (ValueError, "Body holds a number too long to read"),  # over 4,300 digits: Python's int limit
)


async def http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    if error.status_code == 400 and error.__cause__ is not None:
        cause = error.__cause__
        for unreadable, message in _UNREADABLE_BODIES:
            if isinstance(cause, unreadable):
                return problem(VALIDATION_FAILED, errors=[_field_error("body", message, None)])
    kind = HTTP_KINDS.get(error.status_code) or Kind(
        error.status_code, "http_error", "HTTP error", "The request cannot be answered."
    )
    headers = dict(error.headers or {})
    if error.status_code == 405:
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return problem(kind, headers=headers, expected=error.detail)


def _allowed_methods(request: Request) -> list[str]:
    # Starlette names the methods of the first route that matched the path only; list them all.
    methods: set[str] = set()
    for route in request.app.state.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return sorted(methods)


def _field_error(field: str, message: str, index: int | None) -> dict[str, Any]:
    return _drop_none({"field": field, "message": message, "index": index})


def _drop_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}
