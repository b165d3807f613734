"""ASGI middleware: request ids, the request's log line and metrics, the last-resort 500, trusted
hosts, and the request body limit."""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Collection

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from entrypoints.http.metrics import UNMATCHED, Metrics
from entrypoints.http.problems import HTTP_KINDS, INTERNAL_ERROR, INVALID_HOST, SHUTTING_DOWN, problem
from entrypoints.logs import request_id

log = logging.getLogger("users_api.http")
access_log = logging.getLogger("users_api.access")

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# An API answers JSON only: nothing to sniff, frame or refer to.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


class RequestContext:
    """Gives every response an X-Request-ID (the client's when sane, else a new one) and the security
    headers, writes one log line and the metrics per request, and turns an unhandled exception into
    a bare 500 problem, logged with the request id. It sits inside Starlette's ServerErrorMiddleware
    so that even a 500 carries the id."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        supplied = Headers(scope=scope).get("x-request-id", "")
        current = supplied if _SANE_REQUEST_ID.fullmatch(supplied) else uuid.uuid4().hex
        token = request_id.set(current)
        began = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append("X-Request-ID", current)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if status:
                raise
            await problem(INTERNAL_ERROR)(scope, receive, send_with_id)
        except asyncio.CancelledError:
            # Uvicorn cancels the requests that outlive the grace period at shutdown. Their writes
            # are rolled back with their transaction; the client is told to retry, and the request
            # ends here, answered, instead of as an "Exception in ASGI application" and a plain 500.
            log.warning("cut off at shutdown: %s %s", scope["method"], scope["path"])
            if status:
                raise
            await problem(SHUTTING_DOWN)(scope, receive, send_with_id)
        finally:
            self._record(scope, status, time.perf_counter() - began)
            request_id.reset(token)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path_format", UNMATCHED)
        method = scope["method"]
        self.metrics.observe(method, route, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):  # a hot path: build nothing for nobody
            return
        access_log.info(
            "%s %s %s %.1f ms",
            method,
            scope["path"],
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
            },
        )


class TrustedHosts:
    """Answers 400 `invalid_host` unless the Host header names one of `hosts` (`*.example.com`
    matches subdomains, `*` anything). Starlette's own TrustedHostMiddleware answers in plain text."""

    def __init__(self, app: ASGIApp, hosts: Collection[str]) -> None:
        self.app = app
        self.any = "*" in hosts
        self.exact = {host.lower() for host in hosts if not host.startswith("*")}
        self.suffixes = tuple(host[1:].lower() for host in hosts if host.startswith("*."))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self.any:
            host = _hostname(Headers(scope=scope).get("host", ""))
            if host not in self.exact and not (self.suffixes and host.endswith(self.suffixes)):
                await problem(INVALID_HOST)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _hostname(host: str) -> str:
    """`example.com:8000` -> `example.com`; `[::1]:8000` -> `::1`."""
    host = host.lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


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
