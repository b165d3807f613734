"""What an operator relies on: metrics, the request log line, trusted hosts, CORS, security headers."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bootstrap import Container, Settings, create_container
from entrypoints.http import create_app
from tests.api.conftest import API, assert_problem, register


@asynccontextmanager
async def serving(base_url: str = "http://localhost", **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(create_container(Settings(_env_file=None, **{"database_url": "memory://", **settings})))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield client


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests_total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], **labels: str) -> float:
    return samples.get(("users_api_http_requests_total", tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_requests_by_route_template_and_status(client: httpx.AsyncClient) -> None:
    user = await register(client, "ada")
    await client.get(f"{API}/{user['id']}")
    await client.get(f"{API}/{user['id']}")
    await client.get(f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11")
    await client.get("/no/such/path/12345")

    samples = await scrape(client)

    route = f"{API}/{{user_id}}"
    assert requests_total(samples, method="POST", route=API, status="201") == 1
    assert requests_total(samples, method="GET", route=route, status="200") == 2
    assert requests_total(samples, method="GET", route=route, status="404") == 1
    assert requests_total(samples, method="GET", route="unmatched", status="404") == 1
    assert not any("12345" in str(labels) or user["id"] in str(labels) for _, labels in samples)
    latency = ("users_api_http_request_duration_seconds_count", (("method", "GET"), ("route", route)))
    assert samples[latency] == 3


async def test_metrics_show_the_pools_connections_on_postgres(container: Container) -> None:
    app = create_app(container)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            samples = await scrape(client)
    gauges = {name: value for (name, labels), value in samples.items() if name.startswith("users_api_pool")}
    if container.settings().storage != "postgres":  # no pool, no pool gauges
        assert gauges == {}
        return
    assert gauges["users_api_pool_max_connections"] == container.settings().pool_max_size
    in_use = samples[("users_api_pool_connections", (("state", "in_use"),))]
    idle = samples[("users_api_pool_connections", (("state", "idle"),))]
    assert (in_use, idle) == (0, container.settings().pool_min_size)


async def test_every_request_writes_one_log_line_with_route_status_duration_and_request_id(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="users_api.access"):
        await client.get(f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11", headers={"x-request-id": "trace-1"})

    [line] = [record for record in caplog.records if record.name == "users_api.access"]
    fields = line.__dict__
    assert (fields["method"], fields["route"], fields["status"]) == ("GET", f"{API}/{{user_id}}", 404)
    assert 0 < fields["duration_ms"] < 10_000
    assert line.getMessage().startswith(f"GET {API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11 404 ")


async def test_responses_carry_security_headers_and_no_server_details(client: httpx.AsyncClient) -> None:
    for response in (await client.get("/health/live"), await client.get(f"{API}/not-a-uuid")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert "server" not in response.headers


@pytest.mark.parametrize(
    ("trusted", "host", "served"),
    [
        (None, "localhost:8000", True),
        (None, "127.0.0.1", True),
        (None, "[::1]:8000", True),
        (None, "evil.example", False),
        ("api.example.com,*.internal", "API.example.com", True),
        ("api.example.com,*.internal", "users.internal:80", True),
        ("api.example.com,*.internal", "internal", False),
        ("api.example.com,*.internal", "localhost", False),
        ("*", "anything.at.all", True),
    ],
)
async def test_only_trusted_hosts_are_served(trusted: str | None, host: str, served: bool) -> None:
    settings = {} if trusted is None else {"trusted_hosts": trusted}
    async with serving(**settings) as client:
        response = await client.get("/health/live", headers={"host": host})
    if served:
        assert response.status_code == 200
    else:
        body = assert_problem(response, 400, "invalid_host")
        assert host not in response.text
        assert body["detail"]


async def test_no_origin_may_call_from_a_browser_by_default() -> None:
    async with serving() as client:
        simple = await client.get("/health/live", headers={"origin": "https://app.example.com"})
        preflight = await client.options(
            API, headers={"origin": "https://app.example.com", "access-control-request-method": "POST"}
        )
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 405


async def test_configured_origins_may_call_and_read_the_api_headers() -> None:
    async with serving(cors_origins="https://app.example.com") as client:
        allowed = await client.options(
            API,
            headers={
                "origin": "https://app.example.com",
                "access-control-request-method": "PATCH",
                "access-control-request-headers": "if-match, content-type",
            },
        )
        other = await client.get("/health/live", headers={"origin": "https://evil.example"})
        simple = await client.get("/health/live", headers={"origin": "https://app.example.com"})
        # The requests the fast path answers (fast.py) are answered inside CORS too.
        hot = [
            await client.get(path, headers={"origin": "https://app.example.com"})
            for path in (API, f"{API}/{uuid4()}")
        ]
    assert [response.status_code for response in hot] == [401, 401]
    assert [response.headers.get("access-control-allow-origin") for response in hot] == [
        "https://app.example.com"
    ] * 2
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "PATCH" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in other.headers
    assert simple.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "ETag" in simple.headers["access-control-expose-headers"]
