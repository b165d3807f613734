"""Bad input of every kind: a documented 4xx problem naming what is wrong, never a 500, and never
the input itself in the answer (it may be a secret)."""

from typing import Any

import httpx
import pytest

from tests.api.conftest import API, assert_problem, register, stored_names

SENTINEL = "S3NT1NEL"
JSON = {"content-type": "application/json"}


def raw(content: bytes | str, content_type: str | None = "application/json") -> dict[str, Any]:
    headers = {} if content_type is None else {"content-type": content_type}
    return {"content": content.encode() if isinstance(content, str) else content, "headers": headers}


CREATE_CASES = {
    "NUL byte": (raw('{"username": "S3NT1NEL\\u0000", "email": "a@example.com"}'), 422, "validation_failed"),
    "lone surrogate": (
        raw('{"username": "ada", "email": "a@example.com", "first_name": "\\ud800S3NT1NEL"}'),
        422,
        "validation_failed",
    ),
    "invalid UTF-8": (
        raw(b'{"username": "S3NT1NEL\xff", "email": "a@example.com"}'),
        422,
        "validation_failed",
    ),
    "invalid JSON": (raw('{"username": S3NT1NEL}'), 422, "validation_failed"),
    "truncated JSON": (raw('{"username": "S3NT1NEL", "email": "a@exa'), 422, "validation_failed"),
    "a JSON array": (raw('["S3NT1NEL"]'), 422, "validation_failed"),
    "JSON null": (raw("null"), 422, "validation_failed"),
    "an unknown field": (
        raw('{"username": "ada", "email": "a@example.com", "is_admin": "S3NT1NEL"}'),
        422,
        "validation_failed",
    ),
    "a field of the wrong type": (raw('{"username": ["S3NT1NEL"], "email": 5}'), 422, "validation_failed"),
    "an invalid email": (raw('{"username": "ada", "email": "S3NT1NEL"}'), 422, "validation_failed"),
    "text/plain": (raw('{"username": "S3NT1NEL"}', "text/plain"), 415, "unsupported_media_type"),
    "no content type": (raw('{"username": "S3NT1NEL"}', None), 415, "unsupported_media_type"),
    "a form": (raw("username=S3NT1NEL", "application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
    "over 1 MiB with a length": (raw(f'"{SENTINEL * 140_000}"'), 413, "payload_too_large"),
}

LIST_CASES = {
    "huge limit": ({"limit": "1" + "0" * 30}, 422, "validation_failed"),
    "negative limit": ({"limit": "-1"}, 422, "validation_failed"),
    "limit not a number": ({"limit": SENTINEL}, 422, "validation_failed"),
    "huge offset": ({"offset": "9" * 30}, 422, "validation_failed"),
    "negative offset": ({"offset": "-5"}, 422, "validation_failed"),
    "bad cursor": ({"cursor": SENTINEL}, 400, "invalid_cursor"),
    "cursor of base64 garbage": ({"cursor": "U zNOVDFORUw="}, 400, "invalid_cursor"),
    "unknown sort": ({"sort": SENTINEL}, 422, "validation_failed"),
    "sort in another case": ({"sort": "USERNAME"}, 422, "validation_failed"),
    "include_total not a boolean": ({"include_total": SENTINEL}, 422, "validation_failed"),
    "NUL in a filter": ({"q": f"{SENTINEL}\x00"}, 422, "validation_failed"),
    "filter over 254 characters": ({"email": SENTINEL * 40}, 422, "validation_failed"),
}


def assert_not_echoed(response: httpx.Response) -> None:
    assert SENTINEL not in response.text
    assert SENTINEL.lower() not in response.text.lower()


@pytest.mark.parametrize(("request_", "status", "code"), CREATE_CASES.values(), ids=CREATE_CASES.keys())
async def test_a_bad_create_is_a_documented_problem_that_echoes_nothing(
    client: httpx.AsyncClient, request_: dict[str, Any], status: int, code: str
) -> None:
    response = await client.post(API, **request_)
    assert_problem(response, status, code)
    assert_not_echoed(response)
    assert await stored_names(client) == ["admin"]


@pytest.mark.parametrize(("request_", "status", "code"), CREATE_CASES.values(), ids=CREATE_CASES.keys())
async def test_a_bad_patch_is_a_documented_problem_that_changes_nothing(
    client: httpx.AsyncClient, request_: dict[str, Any], status: int, code: str
) -> None:
    ada = await register(client, "ada")
    response = await client.patch(f"{API}/{ada['id']}", **request_)
    assert_problem(response, status, code)
    assert_not_echoed(response)
    assert (await client.get(f"{API}/{ada['id']}")).json() == ada


@pytest.mark.parametrize(("params", "status", "code"), LIST_CASES.values(), ids=LIST_CASES.keys())
async def test_a_bad_list_query_is_a_documented_problem_that_echoes_nothing(
    client: httpx.AsyncClient, params: dict[str, str], status: int, code: str
) -> None:
    response = await client.get(API, params=params)
    assert_problem(response, status, code)
    assert_not_echoed(response)


async def test_a_bad_id_or_header_is_a_problem_that_echoes_nothing(client: httpx.AsyncClient) -> None:
    ada = await register(client, "ada")
    for response in (
        await client.get(f"{API}/{SENTINEL}"),
        await client.delete(f"{API}/{SENTINEL}"),
        await client.patch(f"{API}/{ada['id']}", json={}, headers={"if-match": SENTINEL}),
        await client.get(f"/{SENTINEL}"),
        await client.put(f"{API}/{ada['id']}", json={"username": SENTINEL}),
    ):
        assert 400 <= response.status_code < 500
        assert response.headers["content-type"] == "application/problem+json"
        assert_not_echoed(response)
