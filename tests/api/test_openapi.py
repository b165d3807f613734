"""The OpenAPI schema: every status and media type the API can answer is declared, and the answers
that come from outside the routes (the Host check, the body limit, FastAPI's body parsing) are
among them. The schema does not depend on the storage, so this module runs on memory alone."""

from typing import Any

import httpx
import pytest

from tests.api.conftest import API, assert_problem, register

pytestmark = pytest.mark.parametrize("container", ["memory"], indirect=True)

USER = f"{API}/{{user_id}}"
# 400 (Host check), 413 (body limit), 500 (last resort) and 503 (over capacity) come from the
# middleware and the server, around every route; 408 (a body too slow) around those that read one.
EVERYWHERE = {"400", "413", "500", "503"}
BODY = EVERYWHERE | {"408"}
EXPECTED = {
    ("post", API): BODY | {"201", "401", "403", "409", "415", "422", "503"},
    ("post", f"{API}/bulk"): BODY | {"201", "401", "403", "409", "415", "422", "503"},
    ("get", API): EVERYWHERE | {"200", "401", "403", "422", "503"},
    ("get", f"{API}/me"): EVERYWHERE | {"200", "401", "422", "503"},
    ("get", USER): EVERYWHERE | {"200", "304", "401", "404", "422", "503"},
    ("patch", USER): BODY | {"200", "401", "403", "404", "409", "412", "415", "422", "429", "503"},
    ("delete", USER): EVERYWHERE | {"204", "401", "404", "409", "412", "422", "503"},
    ("post", "/api/v1/auth/token"): BODY | {"200", "415", "429", "503"},
    ("get", "/health/live"): EVERYWHERE | {"200"},
    ("get", "/health/ready"): EVERYWHERE | {"200", "503"},
}
OVER_ONE_MIB = b" " * 1_048_577


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def operations(schema: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, ops in schema["paths"].items() for method, op in ops.items()}


async def test_every_operation_declares_every_status_it_can_answer(schema: dict[str, Any]) -> None:
    assert {key: set(op["responses"]) for key, op in operations(schema).items()} == EXPECTED


async def test_every_error_is_declared_as_problem_json_only(schema: dict[str, Any]) -> None:
    for key, op in operations(schema).items():
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert list(response["content"]) == ["application/problem+json"], (key, status)
                assert response["content"]["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


# The creates that take an Idempotency-Key answer a repeat of a request still running with a 409 and
# Retry-After (`idempotency_in_progress`).
KEYED = {("post", API), ("post", f"{API}/bulk")}


async def test_every_response_declares_the_request_id_and_503s_retry_after(schema: dict[str, Any]) -> None:
    for key, op in operations(schema).items():
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"]
            retried = status in ("429", "503") or (status == "409" and key in KEYED)
            assert ("Retry-After" in response["headers"]) == retried, (key, status)
            assert ("WWW-Authenticate" in response["headers"]) == (status == "401")


async def test_the_listing_400_names_the_cursor_and_the_host_check(schema: dict[str, Any]) -> None:
    description = operations(schema)[("get", API)]["responses"]["400"]["description"]
    assert "invalid_cursor" in description
    assert "invalid_host" in description


async def test_the_schema_publishes_the_domain_rules(schema: dict[str, Any]) -> None:
    create = schema["components"]["schemas"]["UserCreate"]
    assert create["additionalProperties"] is False
    assert create["properties"]["username"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]{1,30}[A-Za-z0-9]$"
    assert create["properties"]["email"]["maxLength"] == 254
    assert set(create["required"]) == {"username", "email"}
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])


async def test_patch_accepts_merge_patch_and_plain_json(schema: dict[str, Any]) -> None:
    body = operations(schema)[("patch", USER)]["requestBody"]["content"]
    assert set(body) == {"application/merge-patch+json", "application/json"}


async def test_docs_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


async def test_an_untrusted_host_is_a_declared_400_on_every_operation(
    client: httpx.AsyncClient, schema: dict[str, Any]
) -> None:
    user_id = (await register(client, "ada"))["id"]
    for method, path in EXPECTED:
        response = await client.request(
            method, path.format(user_id=user_id), json={}, headers={"host": "evil.example"}
        )
        assert_problem(response, 400, "invalid_host")
        assert "400" in operations(schema)[(method, path)]["responses"], (method, path)


async def test_a_body_over_1_mib_is_a_declared_413_on_every_operation(
    client: httpx.AsyncClient, schema: dict[str, Any]
) -> None:
    user_id = (await register(client, "ada"))["id"]
    for method, path in EXPECTED:
        response = await client.request(
            method,
            path.format(user_id=user_id),
            content=OVER_ONE_MIB,
            headers={"content-type": "application/json"},
        )
        assert_problem(response, 413, "payload_too_large")
        assert "413" in operations(schema)[(method, path)]["responses"], (method, path)


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# Valid JSON that Python's parser cannot take: deeper than its recursion limit, or an integer of more
# than 4,300 digits. FastAPI would answer a bare 400; like any other invalid body, they are a 422.
UNREADABLE = {
    "nested 1,000 deep": (nested(1_000), "Body is nested too deeply"),
    "nested 100,000 deep": (nested(100_000), "Body is nested too deeply"),
    "a 5,000-digit number": (b'{"username": ' + b"7" * 5_000 + b"}", "Body holds a number too long to read"),
}


@pytest.mark.parametrize(("body", "message"), UNREADABLE.values(), ids=UNREADABLE.keys())
async def test_valid_json_too_deep_or_too_long_to_read_is_a_declared_422_on_the_body(
    client: httpx.AsyncClient, schema: dict[str, Any], body: bytes, message: str
) -> None:
    user_id = (await register(client, "ada"))["id"]
    for method, path in [("post", API), ("post", f"{API}/bulk"), ("patch", USER)]:
        response = await client.request(
            method, path.format(user_id=user_id), content=body, headers={"content-type": "application/json"}
        )
        problem = assert_problem(response, 422, "validation_failed")
        assert problem["errors"] == [{"field": "body", "message": message}]
        assert "422" in operations(schema)[(method, path)]["responses"], (method, path)
    assert (await client.get(f"{API}/{user_id}")).json()["version"] == 1
