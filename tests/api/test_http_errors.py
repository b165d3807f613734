import json
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from dependency_injector import providers

from bootstrap import Container
from domain.errors import StorageUnavailable
from entrypoints.logs import RequestIdFilter
from tests.api.conftest import API, assert_problem, memory_only, stored_names

ONE_MIB = 1_048_576


def body_of_size(size: int) -> bytes:
    """A valid create body padded with JSON whitespace to exactly `size` bytes."""
    body = json.dumps({"username": "ada", "email": "ada@example.com"}).encode()
    return body[:-1] + b" " * (size - len(body)) + b"}"


async def test_an_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v2/users"), 404, "not_found")
    assert_problem(await client.get(f"{API}/"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11", "DELETE, GET, PATCH"),
        ("DELETE", API, "GET, POST"),
        ("GET", f"{API}/bulk", "POST"),  # "bulk" is never read as a user id
        ("PATCH", f"{API}/bulk", "POST"),
        ("PUT", f"{API}/bulk", "POST"),
        ("POST", "/health/live", "GET"),
    ],
)
async def test_a_wrong_method_is_a_405_problem_listing_every_allowed_method(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    assert_problem(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allowed


@pytest.mark.parametrize(
    "request_id", ["abc-123", "0193.6f0e_7a5c", "01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11", "x" * 64]
)
async def test_a_sane_client_request_id_comes_back(client: httpx.AsyncClient, request_id: str) -> None:
    for response in (
        await client.get(API, headers={"x-request-id": request_id}),
        await client.get("/nowhere", headers={"x-request-id": request_id}),
    ):
        assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize("request_id", [b"", b"x" * 65, b"a b", b"<script>", "é".encode(), b"a/b"])
async def test_an_insane_client_request_id_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, request_id: bytes
) -> None:
    first = await client.get(API, headers={b"x-request-id": request_id})
    second = await client.get(API, headers={b"x-request-id": request_id})
    assert first.headers["x-request-id"].encode() != request_id
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    assert 1 <= len(first.headers["x-request-id"]) <= 64


async def test_a_body_of_exactly_1_mib_is_accepted(client: httpx.AsyncClient) -> None:
    content = body_of_size(ONE_MIB)
    assert len(content) == ONE_MIB
    response = await client.post(API, content=content, headers={"content-type": "application/json"})
    assert response.status_code == 201


async def test_a_body_over_1_mib_is_413_with_a_content_length(client: httpx.AsyncClient) -> None:
    response = await client.post(
        API, content=body_of_size(ONE_MIB + 1), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload_too_large")
    assert await stored_names(client) == ["admin"]


async def test_a_chunked_body_over_1_mib_is_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        content = body_of_size(ONE_MIB + 10)
        for start in range(0, len(content), 65_536):
            yield content[start : start + 65_536]

    response = await client.post(API, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")
    assert await stored_names(client) == ["admin"]


async def test_a_chunked_body_under_the_limit_is_accepted(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"username": "ada",'
        yield b' "email": "ada@example.com"}'

    response = await client.post(API, content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 201


@memory_only
async def test_an_unexpected_error_is_a_bare_500_and_the_log_has_the_detail(
    container: Container, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        async def __call__(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("SELECT secret FROM users -- password=hunter2")

    caplog.handler.addFilter(RequestIdFilter())  # as the service's own log handler does
    with container.list_users.override(providers.Object(Broken())), caplog.at_level(logging.ERROR):
        response = await client.get(API, headers={"x-request-id": "req-500"})

    body = assert_problem(response, 500, "internal_error")
    for inside in ("SELECT", "hunter2", "Traceback", "RuntimeError"):
        assert inside not in response.text
    assert response.headers["x-request-id"] == "req-500"
    logged = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert [record.__dict__["request_id"] for record in logged] == ["req-500"]
    assert logged[0].exc_info is not None
    assert body["detail"]


class Unavailable:
    """A store that is down: every call raises the domain's StorageUnavailable."""

    def __getattr__(self, name: str) -> object:
        async def fail(*args: object, **kwargs: object) -> None:
            raise StorageUnavailable("connection refused")

        return fail


@memory_only
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", API, None),
        ("POST", API, {"username": "ada", "email": "ada@example.com"}),
        ("POST", f"{API}/bulk", [{"username": "ada", "email": "ada@example.com"}]),
        ("GET", f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11", None),
        ("PATCH", f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11", {"first_name": "x"}),
        ("DELETE", f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11", None),
        ("GET", "/health/ready", None),
    ],
)
async def test_storage_down_is_a_503_with_retry_after_on_every_operation(
    container: Container, client: httpx.AsyncClient, method: str, path: str, body: object
) -> None:
    with container.repository.override(providers.Object(Unavailable())):
        response = await client.request(method, path, json=body)
        live = await client.get("/health/live")

    assert_problem(response, 503, "storage_unavailable")
    assert response.headers["retry-after"] == "1"
    assert "refused" not in response.text
    assert live.status_code == 200
    assert (await client.get(API)).status_code == 200  # and back once the store is


def test_every_domain_error_has_its_row_in_the_problem_table() -> None:
    from domain.errors import DomainError
    from entrypoints.http.problems import DOMAIN_KINDS

    assert set(DomainError.__subclasses__()) == set(DOMAIN_KINDS)
