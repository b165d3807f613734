"""What `users-api serve` holds for a client, and for how long. Uvicorn bounds the connections and
requests it serves at once (`limit_concurrency`), but waits without end for a request's headers, and
for a body that no one reads; and its 503 beyond the bound is plain text.

`deadlined(...)` is uvicorn's httptools protocol with two deadlines: a request's line and headers
must arrive within `header_timeout` of its first byte (or of the connection's opening, for a client
that sends nothing), and its body within `body_timeout` of its headers; past either, the connection
is closed. Beyond the bound, the 503 is a problem, as every other error."""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from uvicorn.protocols.http.flow_control import service_unavailable
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from entrypoints.http.problems import OVER_CAPACITY, problem
from entrypoints.logs import request_id

log = logging.getLogger("users_api.http")


async def over_capacity(scope: Any, receive: Any, send: Any) -> None:
    """Uvicorn's answer beyond `limit_concurrency`, as a problem; the connection is closed after it."""
    current = os.urandom(16).hex()
    token = request_id.set(current)
    try:
        answer = problem(OVER_CAPACITY, headers={"Connection": "close", "X-Request-ID": current})
        await answer(scope, receive, send)
    finally:
        request_id.reset(token)


def deadlined(header_timeout: float, body_timeout: float) -> type[HttpToolsProtocol]:
    class DeadlinedHttpTools(HttpToolsProtocol):
        deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm(header_timeout, "headers")

        def on_message_begin(self) -> None:
            super().on_message_begin()
            if self.deadline is None:  # the next request on a kept-alive connection
                self._arm(header_timeout, "headers")

        def on_headers_complete(self) -> None:
            super().on_headers_complete()
            # Edge answers 408 at `body_timeout` to a route that reads the body; this cuts, a
            # moment later, a body that no one reads (its answer already given).
            self._arm(body_timeout + 1, "body")

        def on_message_complete(self) -> None:
            self._disarm()
            super().on_message_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _start_asgi_task(self, cycle: Any, app: Any) -> None:
            super()._start_asgi_task(cycle, over_capacity if app is service_unavailable else app)

        def _arm(self, seconds: float, awaited: str) -> None:
            self._disarm()
            self.deadline = self.loop.call_later(seconds, self._hang_up, awaited)

        def _disarm(self) -> None:
            if self.deadline is not None:
                self.deadline.cancel()
                self.deadline = None

        def _hang_up(self, awaited: str) -> None:
            self.deadline = None
            if not self.transport.is_closing():
                log.info("hung up on %s:%s: its request's %s came too slowly", *self._peer(), awaited)
                self.transport.close()

        def _peer(self) -> tuple[str, int | str]:
            return self.client or ("-", "-")

    return DeadlinedHttpTools
