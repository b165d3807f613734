"""Slow and idle clients against a real `users-api serve`: what they hold is bounded in number
(USERS_CONCURRENCY_LIMIT, then 503 problems) and in time (USERS_HEADER_TIMEOUT, USERS_BODY_TIMEOUT),
and while they hold it, other clients are answered at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.service import Service, environment

pytestmark = pytest.mark.e2e

SLOW = 150  # connections of each test's slow clients, together
QUICKLY = 5.0  # seconds within which a client among them is answered (an answer, not a hang)


@pytest.fixture
def start(tmp_path: Path) -> Iterator[type[Service]]:
    started: list[Service] = []

    class Started(Service):
        @classmethod
        def with_settings(cls, **settings: str) -> Service:
            service = Service.start(tmp_path, environment(**settings))
            started.append(service)
            return service

    yield Started
    for service in started:
        service.kill()


class Client:
    """One raw connection, sending what a test tells it at its own pace."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def trickle(self, data: bytes, every: float) -> None:
        """Sends `data` a byte at a time, until done or the server hangs up."""
        for byte in data:
            try:
                self.writer.write(bytes([byte]))
                await self.writer.drain()
            except ConnectionError:
                return
            await asyncio.sleep(every)

    async def answer(self, within: float) -> bytes:
        """Everything the server sends until it hangs up (empty: it hung up without a word)."""
        async with asyncio.timeout(within):
            try:
                return await self.reader.read(-1)
            except ConnectionError:
                return b""


@asynccontextmanager
async def connected(server: Service, count: int) -> AsyncIterator[list[Client]]:
    host, port = server.base.removeprefix("http://").split(":")
    clients = [Client(*await asyncio.open_connection(host, int(port))) for _ in range(count)]
    try:
        yield clients
    finally:
        for client in clients:
            client.writer.close()


def headers(method: str, path: str, *extra: str) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def timed_get(server: Service, path: str, **options: object) -> tuple[httpx.Response, float]:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        began = time.monotonic()
        response = await client.get(path, **options)  # type: ignore[arg-type]
        return response, time.monotonic() - began


async def test_idle_and_slow_connections_neither_keep_a_client_waiting_nor_stay(
    start: type[Service],
) -> None:
    server = start.with_settings(header_timeout="2", body_timeout="3")  # type: ignore[attr-defined]
    auth = server.login()
    token_form = headers("POST", "/api/v1/auth/token", "Content-Type: application/x-www-form-urlencoded")
    body_first = token_form.replace(b"\r\n\r\n", b"\r\nContent-Length: 100000\r\n\r\n")
    async with connected(server, SLOW) as clients:
        headers_slow, body_slow = clients[50:100], clients[100:]  # and 50 silent ones
        for client in body_slow:
            client.writer.write(body_first)  # the headers at once, then the body a byte at a time
        trickles = [
            *(asyncio.create_task(c.trickle(headers("GET", "/health/live"), 1.0)) for c in headers_slow),
            *(asyncio.create_task(c.trickle(b"x" * 1000, 0.5)) for c in body_slow),
        ]
        await asyncio.sleep(1)  # every slow client has begun

        for path, extra in (("/health/live", {}), ("/api/v1/users/me", {"headers": auth})):
            response, seconds = await timed_get(server, path, **extra)
            assert response.status_code == 200, response.text
            assert seconds < QUICKLY, (path, seconds)

        # Then each is hung up on: silent ones and slow headers without a word, slow bodies with a 408.
        answers = await asyncio.gather(*(client.answer(within=15) for client in clients))
        for task in trickles:
            task.cancel()
    assert answers[:100] == [b""] * 100
    for answer in answers[100:]:
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"content-type: application/problem+json" in answer.lower()
        assert b'"code":"request_timeout"' in answer
    assert (await timed_get(server, "/health/live"))[0].status_code == 200
    assert "Traceback" not in server.output()


async def test_beyond_the_concurrency_limit_a_client_gets_a_503_problem_at_once(
    start: type[Service],
) -> None:
    server = start.with_settings(concurrency_limit="20", header_timeout="60")  # type: ignore[attr-defined]
    async with connected(server, 30):
        await asyncio.sleep(0.5)  # the server has taken every connection
        response, seconds = await timed_get(server, "/health/live")
        assert seconds < QUICKLY
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "over_capacity"
        assert response.headers["retry-after"] == "1"
        assert response.headers["x-request-id"]
        assert response.headers["x-content-type-options"] == "nosniff"
    await asyncio.sleep(0.5)  # the server has seen them go
    assert (await timed_get(server, "/health/live"))[0].status_code == 200


async def test_a_body_that_trickles_is_cut_with_a_408_problem(start: type[Service]) -> None:
    server = start.with_settings(body_timeout="2")  # type: ignore[attr-defined]
    auth = server.login()["Authorization"]
    create = headers(
        "POST",
        "/api/v1/users",
        f"Authorization: {auth}",
        "Content-Type: application/json",
        "Content-Length: 500",
    )
    async with connected(server, 1) as (client,):
        client.writer.write(create)
        trickling = asyncio.create_task(client.trickle(b'{"username": "ada", ' + b" " * 480, 0.1))
        began = time.monotonic()
        answer = await client.answer(within=10)  # the whole answer, then the server hangs up
        seconds = time.monotonic() - began
        trickling.cancel()
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b'"code":"request_timeout"' in answer
    assert 1.5 < seconds < 6, seconds
    listed, _ = await timed_get(server, "/api/v1/users", headers={"Authorization": auth})
    assert [user["username"] for user in listed.json()["items"]] == ["admin"]  # nothing was stored


async def test_a_body_that_no_one_reads_is_cut_after_its_answer(start: type[Service]) -> None:
    server = start.with_settings(body_timeout="1")  # type: ignore[attr-defined]
    async with connected(server, 1) as (client,):
        client.writer.write(headers("GET", "/health/live", "Content-Length: 1000"))
        trickling = asyncio.create_task(client.trickle(b"x" * 1000, 0.1))
        began = time.monotonic()
        answer = await client.answer(within=10)
        seconds = time.monotonic() - began
        trickling.cancel()
    assert answer.startswith(b"HTTP/1.1 200 "), answer
    assert 1 < seconds < 6, seconds
