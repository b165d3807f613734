"""Answers stored with a keyed write (Idempotency-Key) and sent again to its repeats: status,
the headers the contract names (ETag, Location) and the body, as opaque bytes to the domain."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from fastapi import Response
from starlette.types import Send

from domain.model import User
from entrypoints.http.headers import etag
from entrypoints.http.render import MEDIA_TYPE, json_bytes, user_json


def stored(status: int, headers: dict[str, str], body: bytes) -> bytes:
    """One line of JSON (status and headers; orjson writes no newline), then the body."""
    return orjson.dumps([status, headers]) + b"\n" + body


def stored_response(answer: bytes) -> Response:
    head, _, body = answer.partition(b"\n")
    status, headers = orjson.loads(head)
    return Response(body, status, headers, media_type=MEDIA_TYPE)


async def send_stored(send: Send, answer: bytes) -> None:
    """What stored_response(answer) sends, sent straight (for the fast path)."""
    head, _, body = answer.partition(b"\n")
    status, headers = orjson.loads(head)
    raw = [(b"content-length", str(len(body)).encode()), (b"content-type", _MEDIA_TYPE)]
    raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def created(location: Callable[[User], str]) -> Callable[[Sequence[User]], bytes]:
    """How one new user is told: 201, the user, its ETag and Location."""

    def tell(users: Sequence[User]) -> bytes:
        (user,) = users
        headers = {"ETag": etag(user), "Location": location(user)}
        return stored(201, headers, json_bytes(user_json(user)))

    return tell


def created_all(users: Sequence[User]) -> bytes:
    """How a batch is told: 201 and the users in input order."""
    content: dict[str, Any] = {"items": [user_json(user) for user in users]}
    return stored(201, {}, json_bytes(content))


_MEDIA_TYPE = MEDIA_TYPE.encode()
