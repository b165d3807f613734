from typing import Any

import httpx
import pytest

EXPECTED = {
    ("post", "/api/v1/users"): {"201", "409", "413", "415", "422", "500", "503"},
    ("post", "/api/v1/users/bulk"): {"201", "409", "413", "415", "422", "500", "503"},
    ("get", "/api/v1/users"): {"200", "400", "422", "500", "503"},
    ("get", "/api/v1/users/{user_id}"): {"200", "304", "404", "422", "500", "503"},
    ("patch", "/api/v1/users/{user_id}"): {"200", "404", "409", "412", "413", "415", "422", "500", "503"},
    ("delete", "/api/v1/users/{user_id}"): {"204", "404", "412", "422", "500", "503"},
    ("get", "/health/live"): {"200"},
    ("get", "/health/ready"): {"200", "503"},
}


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


async def test_every_response_declares_the_request_id_and_503s_retry_after(schema: dict[str, Any]) -> None:
    for op in operations(schema).values():
        for status, response in op["responses"].items():
            assert "X-Request-ID" in response["headers"]
            assert ("Retry-After" in response["headers"]) == (status == "503")


async def test_the_schema_publishes_the_domain_rules(schema: dict[str, Any]) -> None:
    create = schema["components"]["schemas"]["UserCreate"]
    assert create["additionalProperties"] is False
    assert create["properties"]["username"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]{1,30}[A-Za-z0-9]$"
    assert create["properties"]["email"]["maxLength"] == 254
    assert set(create["required"]) == {"username", "email"}
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])


async def test_patch_accepts_merge_patch_and_plain_json(schema: dict[str, Any]) -> None:
    body = operations(schema)[("patch", "/api/v1/users/{user_id}")]["requestBody"]["content"]
    assert set(body) == {"application/merge-patch+json", "application/json"}


async def test_docs_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
