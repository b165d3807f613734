"""The edge of the app, one ASGI middleware: request ids, the request's log line and metrics, the
last-resort 500, trusted hosts and the request body limit, in one pass over the request's headers
(each layer of middleware costs every request a call and a copy of its headers)."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import time
from collections.abc import Collection

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
_SECURITY = [(name.lower().encode(), value.encode()) for name, value in SECURITY_HEADERS.items()]
_READ = (b"x-request-id", b"host", b"content-length")  # the request headers the edge reads


class Edge:
    """Gives every response an X-Request-ID (the client's when sane, else a new one) and the security
    headers; answers 400 `invalid_host` unless the Host header names one of `hosts` (`*.example.com`
    matches subdomains, `*` anything; Starlette's own middleware answers in plain text); answers 413
    for a body over `max_bytes`, declared or chunked (FastAPI's own limit answers some 413s in plain
    text, outside any middleware), and 408 (closing the connection) for a body that has not all
    arrived `body_timeout` seconds after the request began; turns an unhandled exception into a
    bare 500 problem, logged with the request id; and writes one log line and the metrics per
    request. It sits inside Starlette's ServerErrorMiddleware, so that even a 500 carries the id."""

    def __init__(
        self,
        app: ASGIApp,
        metrics: Metrics,
        hosts: Collection[str],
        max_bytes: int,
        body_timeout: float,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.any_host = "*" in hosts
        self.hosts = {host.lower() for host in hosts if not host.startswith("*")}
        self.suffixes = tuple(host[1:].lower() for host in hosts if host.startswith("*."))
        self.max_bytes = max_bytes
        self.body_timeout = body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        found: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _READ and name not in found:  # the first of each, as Starlette reads them
                found[name] = value
        supplied, host, declared = (found.get(name, b"") for name in _READ)
        given = supplied.decode("latin-1")
        current = (
            given if _SANE_REQUEST_ID.fullmatch(given) else os.urandom(16).hex()
        )  # as uuid4().hex, cheaper
        identity = (b"x-request-id", current.encode())
        token = request_id.set(current)
        began = time.perf_counter()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.append(identity)
                headers += [header for header in _SECURITY if header[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        try:
            if not self._trusted(host.decode("latin-1")):
                await problem(INVALID_HOST)(scope, receive, send_with_id)
            elif declared.isdigit() and int(declared) > self.max_bytes:
                await problem(HTTP_KINDS[413])(scope, receive, send_with_id)
            else:
                await self.app(scope, self._limited(receive, began), send_with_id)
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

    def _trusted(self, host: str) -> bool:
        if self.any_host:
            return True
        name = _hostname(host)
        return name in self.hosts or bool(self.suffixes and name.endswith(self.suffixes))

    def _limited(self, receive: Receive, began: float) -> Receive:
        received = 0
        complete = False

        async def limited_receive() -> Message:
            nonlocal received, complete
            if complete:  # after the body comes only the disconnect, whenever the client leaves
                return await receive()
            # The body's deadline counts from the request's start.
            left = self.body_timeout - (time.perf_counter() - began)
            try:
                async with asyncio.timeout(left):
                    message = await receive()
            except TimeoutError:
                # A body trickled in (or never sent) holds a connection and a task: cut it. The
                # route's body read re-raises this, like a 413, to the problem handler.
                raise HTTPException(408, headers={"Connection": "close"}) from None
            complete = not message.get("more_body", False)
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise HTTPException(413)
            return message

        return limited_receive

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path_format", UNMATCHED)
        method = scope["method"]
        self.metrics.observe(method, route, status, seconds)
        if not access_log.isEnabledFor(logging.INFO):  # a hot path: build nothing for nobody
            return
        # The peer, or behind a trusted proxy the client it names (see USERS_FORWARDED_ALLOW_IPS).
        client = scope["client"][0] if scope.get("client") else "-"
        access_log.info(
            "%s %s %s %.1f ms from %s",
            method,
            scope["path"],
            status,
            seconds * 1000,
            client,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "client": client,
            },
        )


def _hostname(host: str) -> str:
    """`example.com:8000` -> `example.com`; `[::1]:8000` -> `::1`."""
    host = host.lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
