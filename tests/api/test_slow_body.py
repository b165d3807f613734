"""A body that does not all arrive within USERS_BODY_TIMEOUT is answered 408 `request_timeout`, and
the connection is closed, wherever a body is read: the fast path, the routes, the token form. This
is the app's own rule, so it holds under any server; tests/e2e/test_slow_clients.py sends such
bodies to a real one."""

import asyncio
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from fastapi import FastAPI

from bootstrap import Container
from domain.model import Profile, Role, User
from domain.sources import Uuid7Ids
from entrypoints.http import create_app

pytestmark = [
    pytest.mark.parametrize("container", ["memory"], indirect=True),
    pytest.mark.settings(body_timeout=0.3),
]
JSON = b"application/json"


async def an_admin(container: Container) -> tuple[str, str]:
    """A stored admin's id, and a token of theirs."""
    now = datetime.now(UTC)
    profile = Profile.parse({"username": "root", "email": "root@example.com"})
    admin = User(Uuid7Ids()(), profile, now, now, role=Role.ADMIN)
    await container.repository().add(admin)
    return str(admin.id), container.tokens().issue(admin).value


async def send_half_a_body(app: FastAPI, method: str, path: str, media_type: bytes, token: str) -> Any:
    """Sends the headers and the first bytes of a body said to be longer, then nothing more."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"localhost"),
            (b"content-type", media_type),
            (b"content-length", b"1000"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("localhost", 80),
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": b'{"username": ', "more_body": True}
        await asyncio.sleep(3600)  # the client says no more
        raise AssertionError("not cut")

    answer: dict[str, Any] = {"body": b""}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = {name.decode().lower(): value.decode() for name, value in message["headers"]}
        else:
            answer["body"] += message.get("body", b"")

    began = time.monotonic()
    async with asyncio.timeout(10):
        await app(scope, receive, send)
    answer["seconds"] = time.monotonic() - began
    return answer


@pytest.mark.parametrize(
    ("method", "path", "media_type"),
    [
        ("POST", "/api/v1/users", JSON),  # the fast path
        ("POST", "/api/v1/users/bulk", JSON),  # a route
        ("PATCH", "/api/v1/users/{me}", b"application/merge-patch+json"),
        ("POST", "/api/v1/auth/token", b"application/x-www-form-urlencoded"),  # the form
    ],
)
async def test_a_body_that_stops_coming_is_a_408_and_the_connection_closes(
    container: Container, app: FastAPI, method: str, path: str, media_type: bytes
) -> None:
    me, token = await an_admin(container)
    answer = await send_half_a_body(app, method, path.format(me=me), media_type, token)
    assert answer["status"] == 408, answer
    assert answer["headers"]["content-type"] == "application/problem+json"
    assert answer["headers"]["connection"] == "close"
    assert answer["headers"]["x-request-id"]
    assert orjson.loads(answer["body"])["code"] == "request_timeout"
    assert 0.25 < answer["seconds"] < 5


async def test_the_routes_alone_answer_408_too(container: Container) -> None:
    app = create_app(container, fast_path=False)
    async with app.router.lifespan_context(app):
        _, token = await an_admin(container)
        answer = await send_half_a_body(app, "POST", "/api/v1/users", JSON, token)
    assert answer["status"] == 408, answer
