import asyncio
import re
from uuid import UUID

import httpx
import pytest

from tests.api.conftest import API, assert_problem, register, stored_names

ADA = {"username": "ada", "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
RFC3339_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z")


async def test_register_answers_201_with_the_user_its_location_and_etag(client: httpx.AsyncClient) -> None:
    response = await client.post(API, json=ADA)

    assert response.status_code == 201
    user = response.json()
    assert {key: user[key] for key in ADA} == ADA
    assert UUID(user["id"]).version == 7
    assert user["version"] == 1
    assert RFC3339_UTC.fullmatch(user["created_at"])
    assert user["updated_at"] == user["created_at"]
    assert response.headers["location"] == f"{API}/{user['id']}"
    assert response.headers["etag"] == '"1"'
    assert (await client.get(response.headers["location"])).json() == user


async def test_register_trims_names_and_stores_blank_ones_as_null(client: httpx.AsyncClient) -> None:
    user = await register(client, "ada", " ada@example.com ", first_name="  Ada  ", last_name="  ")
    assert (user["email"], user["first_name"], user["last_name"]) == ("ada@example.com", "Ada", None)


async def test_register_accepts_non_ascii_emails_as_entered(client: httpx.AsyncClient) -> None:
    assert (await register(client, "ada", "Ädä@example.com"))["email"] == "Ädä@example.com"


@pytest.mark.parametrize(
    ("second", "fields"),
    [
        ({"username": "ADA", "email": "other@example.com"}, ["username"]),
        ({"username": "other", "email": "ADA@Example.com"}, ["email"]),
        ({"username": "Ada", "email": "Ada@example.com"}, ["username", "email"]),
    ],
)
async def test_register_answers_409_naming_the_taken_field_without_its_value(
    client: httpx.AsyncClient, second: dict[str, str], fields: list[str]
) -> None:
    await register(client, "ada")

    response = await client.post(API, json=second)

    body = assert_problem(response, 409, "user_conflict")
    assert body["conflicts"] == [{"field": field} for field in fields]
    assert second["email"] not in response.text
    assert await stored_names(client) == ["admin", "ada"]


@pytest.mark.parametrize(
    "field",
    ["id", "version", "created_at", "updated_at", "password_hash", "credentials_version", "has_password"],
)
async def test_register_rejects_unknown_fields(client: httpx.AsyncClient, field: str) -> None:
    body = assert_problem(
        await client.post(API, json={**ADA, field: "s3cret-value"}), 422, "validation_failed"
    )
    assert body["errors"] == [{"field": field, "message": "Extra inputs are not permitted"}]
    assert "s3cret-value" not in str(body)


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"username": "ab"}, ["username"]),
        ({"username": "a" * 33}, ["username"]),
        ({"username": "-ada"}, ["username"]),
        ({"email": "no-at-sign"}, ["email"]),
        ({"email": "ada@localhost"}, ["email"]),
        ({"email": "a" * 250 + "@x.com"}, ["email"]),
        ({"first_name": "x" * 101}, ["first_name"]),
        ({"username": 42}, ["username"]),
        ({"username": None}, ["username"]),
        ({"email": ["a@b.co"]}, ["email"]),
        ({"username": "ad\u0000a", "last_name": "x\u001by"}, ["username", "last_name"]),
    ],
)
async def test_register_answers_422_naming_each_wrong_field_and_stores_nothing(
    client: httpx.AsyncClient, fields: dict[str, object], wrong: list[str]
) -> None:
    response = await client.post(API, json={**ADA, **fields})

    body = assert_problem(response, 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == wrong
    assert all(error["message"] for error in body["errors"])
    assert await stored_names(client) == ["admin"]


@pytest.mark.parametrize("missing", ["username", "email"])
async def test_register_requires_username_and_email(client: httpx.AsyncClient, missing: str) -> None:
    fields = {key: value for key, value in ADA.items() if key != missing}
    body = assert_problem(await client.post(API, json=fields), 422, "validation_failed")
    assert body["errors"] == [{"field": missing, "message": "Field required"}]


@pytest.mark.parametrize(
    "content",
    [b'{"username": "ada", "email": ', b"not json", b"", b'["ada"]', b"null", b'{"username": "ada"}x'],
)
async def test_register_answers_422_for_a_body_that_is_not_one_json_object(
    client: httpx.AsyncClient, content: bytes
) -> None:
    response = await client.post(API, content=content, headers={"content-type": "application/json"})
    body = assert_problem(response, 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == ["body"]


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None]
)
async def test_register_answers_415_unless_the_body_is_json(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = await client.post(
        API, content=b'{"username": "ada", "email": "ada@example.com"}', headers=headers
    )
    assert_problem(response, 415, "unsupported_media_type")


async def test_register_accepts_json_with_a_charset(client: httpx.AsyncClient) -> None:
    response = await client.post(
        API,
        content=b'{"username": "ada", "email": "ada@example.com"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b'{"username": "ada", "email": "ada@example.com", "first_name": "\\ud800"}', "first_name"),
        (b'{"username": "ada", "email": "ada@example.com", "last_name": "\\udfff x"}', "last_name"),
        (b'{"username": "ada", "email": "ada\\u0000@example.com"}', "email"),
        (b'{"username": "ada", "email": "ada@example.com", "first_name": "\xff\xfe"}', "body"),
    ],
)
async def test_register_answers_422_for_lone_surrogates_nul_and_bytes_that_are_not_utf8(
    client: httpx.AsyncClient, content: bytes, field: str
) -> None:
    response = await client.post(API, content=content, headers={"content-type": "application/json"})
    body = assert_problem(response, 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == [field]


async def test_concurrent_creates_of_one_email_give_one_201_and_409s_never_a_500(
    client: httpx.AsyncClient,
) -> None:
    bodies = [
        {"username": f"user{i}", "email": "SAME@example.com" if i % 2 else "same@EXAMPLE.com"}
        for i in range(30)
    ]

    responses = await asyncio.gather(*(client.post(API, json=body) for body in bodies))

    assert sorted(response.status_code for response in responses) == [201] + [409] * 29
    listed = (await client.get(API, params={"email": "same@example.com", "include_total": "true"})).json()
    assert listed["total"] == 1
