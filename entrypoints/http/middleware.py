"""ASGI middleware: request ids and the last-resort 500, and the request body limit."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.problems import HTTP_KINDS, INTERNAL_ERROR, problem

log = logging.getLogger("users_api.http")
request_id: ContextVar[str] = ContextVar("request_id", default="-")

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestContext:
    """Gives every response an X-Request-ID (the client's when sane, else a new one), and turns an
    unhandled exception into a bare 500 problem, logged with the request id. It sits inside
    Starlette's ServerErrorMiddleware so that even a 500 carries the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = Headers(scope=scope).get("x-request-id", "")
        current = supplied if _SANE_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        token = request_id.set(current)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message).append("X-Request-ID", current)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s, request id %s", scope["method"], scope["path"], current)
            if started:
                raise
            await problem(INTERNAL_ERROR)(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class BodyLimit:
    """Answers 413 for a body over `max_bytes`, whether it declares a Content-Length or comes chunked.

    FastAPI's own `max_body_size` answers some of its 413s in plain text from outside the user
    middleware (no problem+json, no request id), so the limit lives here."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await problem(HTTP_KINDS[413])(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413)  # the route's body read re-raises it to the problem handler
            return message

        await self.app(scope, limited_receive, send)
