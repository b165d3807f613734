"""What `users-api serve` holds for a client, and for how long. Uvicorn bounds the connections and
requests it serves at once (`limit_concurrency`), but waits without end for a request's headers, and
for a body that no one reads; and its 503 beyond the bound is plain text.

`deadlined(...)` is uvicorn's httptools protocol with two deadlines: a request's line and headers
must arrive within `header_timeout` of its first byte (or of the connection's opening, for a client
that sends nothing), and its body within `body_timeout` of its headers; past either (by at most half
the shorter of the two), the connection is closed. Beyond the bound, the 503 is a problem, as every
other error."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from functools import partial
from typing import Any

from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from entrypoints.http.middleware import SECURITY_HEADERS
from entrypoints.http.problems import OVER_CAPACITY, problem
from entrypoints.logs import request_id

log = logging.getLogger("users_api.http")


async def over_capacity(scope: Any, receive: Any, send: Any) -> None:
    """Uvicorn's answer beyond `limit_concurrency`, as a problem; the connection is closed after it."""
    current = os.urandom(16).hex()
    token = request_id.set(current)
    try:
        headers = {"Connection": "close", "X-Request-ID": current, **SECURITY_HEADERS}
        answer = problem(OVER_CAPACITY, headers=headers)
        await answer(scope, receive, send)
    finally:
        request_id.reset(token)


class DeadlinedHttpTools(HttpToolsProtocol):
    """Uvicorn's httptools protocol with the two deadlines. A request marks where it stands (three
    clock readings); one timer per connection, not per request, looks now and then, so that the
    commonest requests pay nothing more."""

    def __init__(self, *args: Any, header_timeout: float, body_timeout: float, **kwargs: Any) -> None:
        self.header_timeout, self.body_timeout = header_timeout, body_timeout
        self.every = min(header_timeout, body_timeout) / 2
        self.awaited: str | None = "headers"  # what the connection waits for: "headers", "body" or None
        self.since = 0.0
        self.watch: asyncio.TimerHandle | None = None
        super().__init__(*args, **kwargs)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.since = self.loop.time()
        self.watch = self.loop.call_later(self.every, self._look)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.awaited, self.since = "headers", self.loop.time()

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self.awaited, self.since = "body", self.loop.time()

    def on_message_complete(self) -> None:
        self.awaited = None
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.watch is not None:
            self.watch.cancel()
        super().connection_lost(exc)

    def _start_asgi_task(self, cycle: Any, app: Any) -> None:
        super()._start_asgi_task(cycle, over_capacity if app is service_unavailable else app)

    def _look(self) -> None:
        if self.transport.is_closing():
            return
        waited = self.loop.time() - self.since
        # Edge answers 408 at `body_timeout` to a route that reads the body; this cuts, a moment
        # later, a body that no one reads (its answer already given).
        if (self.awaited == "headers" and waited > self.header_timeout) or (
            self.awaited == "body" and waited > self.body_timeout + 1
        ):
            peer = self.client or ("-", "-")
            log.info("hung up on %s:%s: its request's %s came too slowly", *peer, self.awaited)
            self.transport.close()
            return
        self.watch = self.loop.call_later(self.every, self._look)


def deadlined(header_timeout: float, body_timeout: float) -> Callable[..., DeadlinedHttpTools]:
    """The protocol uvicorn makes per connection, with these deadlines; a partial of a class at
    module level, so that it pickles into the worker processes of `serve --workers N`."""
    return partial(DeadlinedHttpTools, header_timeout=header_timeout, body_timeout=body_timeout)
