"""Answers written once, by orjson, straight to bytes. The routes keep declaring their pydantic
models (`response_model=`) for the OpenAPI schema; the values are the domain's own, already valid,
so FastAPI's second validation of each answer is skipped by returning the bytes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import orjson
from fastapi import Response
from starlette.types import Send

from domain.model import User
from domain.use_cases import Page
from entrypoints.http.headers import etag

MEDIA_TYPE = "application/json"


def user_fields(user: User) -> dict[str, Any]:
    """A user as the API shows it (schemas.UserOut): never the password hash, only whether one is set."""
    profile = user.profile
    return {
        "id": user.id,  # orjson writes a UUID in C; asyncpg's own kind goes through `default`
        "username": profile.username,
        "email": profile.email,
        "first_name": profile.first_name,
        "last_name": profile.last_name,
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.updated_at),
        "version": user.version,
        "role": user.role,  # a str enum: orjson writes its value
        "has_password": user.password_hash is not None,
    }


def user_json(user: User) -> orjson.Fragment | dict[str, Any]:
    """A user as the API shows it, its JSON kept in the user's `shown` memo from the second time it is
    shown on: the in-memory store serves the same users again and again, while a user read from a
    database is new and shown once, and making its JSON apart would cost more than it saves."""
    shown = user.shown
    if type(shown) is orjson.Fragment:
        return shown
    if shown is None:
        object.__setattr__(user, "shown", _SEEN)  # a memo, not a change: see User.shown
        return user_fields(user)
    fragment = orjson.Fragment(json_bytes(user_fields(user)))
    object.__setattr__(user, "shown", fragment)
    return fragment


_SEEN = object()  # shown once


def timestamp(moment: datetime) -> datetime | str:
    """RFC 3339 in UTC, always to the microsecond: `2026-11-23T10:00:00.000000Z`. orjson writes a
    UTC datetime so, in C, unless its microsecond is 0 (it would leave the fraction out)."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.microsecond:
        return moment
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def json_bytes(content: Any) -> bytes:
    return orjson.dumps(content, default=_uuid, option=orjson.OPT_UTC_Z)


def _uuid(value: Any) -> str:
    """asyncpg's UUID, a subclass orjson leaves to its caller; anything else unknown is a bug."""
    if isinstance(value, UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not for an answer")


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json_bytes(content), status_code, headers, media_type=MEDIA_TYPE)


def user_response(user: User, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A user, with its version as the ETag."""
    return json_response(user_json(user), status_code, {"ETag": etag(user), **(headers or {})})


def page_fields(page: Page) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "items": [user_json(user) for user in page.items],
        "next_cursor": page.next_cursor,
    }
    if page.total is not None:
        fields["total"] = page.total
    return fields


async def send_json(
    send: Send, content: Any, status: int = 200, headers: dict[str, str] | None = None
) -> None:
    """What json_response(...) sends, sent straight (the fast path skips building the Response)."""
    body = json_bytes(content)
    raw = [(b"content-length", str(len(body)).encode()), (b"content-type", _MEDIA_TYPE)]
    raw += [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in (headers or {}).items()
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def send_user(send: Send, user: User, status: int = 200, headers: dict[str, str] | None = None) -> None:
    await send_json(send, user_json(user), status, {"ETag": etag(user), **(headers or {})})


_MEDIA_TYPE = MEDIA_TYPE.encode()
