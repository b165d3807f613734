import asyncio
from typing import Any

import httpx
import pytest

from tests.api.conftest import API, assert_problem, register

MERGE_PATCH = {"content-type": "application/merge-patch+json"}


@pytest.fixture
async def ada(client: httpx.AsyncClient) -> dict[str, Any]:
    user: dict[str, Any] = await register(client, "ada", first_name="Ada", last_name="Byron")
    return user


async def patch(
    client: httpx.AsyncClient, user: dict[str, Any], body: object, **headers: str
) -> httpx.Response:
    return await client.patch(f"{API}/{user['id']}", json=body, headers={**MERGE_PATCH, **headers})


async def test_patch_changes_present_fields_only_and_answers_the_new_version(
    client: httpx.AsyncClient, ada: dict[str, Any]
) -> None:
    response = await patch(client, ada, {"last_name": "Lovelace"})

    user = response.json()
    assert (response.status_code, response.headers["etag"]) == (200, '"2"')
    assert {**ada, "last_name": "Lovelace", "version": 2, "updated_at": user["updated_at"]} == user
    assert user["updated_at"] >= ada["updated_at"]
    assert (await client.get(f"{API}/{ada['id']}")).json() == user


async def test_patch_with_null_clears_a_name(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    assert (await patch(client, ada, {"first_name": None})).json()["first_name"] is None


@pytest.mark.parametrize("field", ["username", "email"])
async def test_patch_with_null_for_username_or_email_is_422(
    client: httpx.AsyncClient, ada: dict[str, Any], field: str
) -> None:
    body = assert_problem(await patch(client, ada, {field: None}), 422, "validation_failed")
    assert body["errors"] == [{"field": field, "message": "must not be null"}]


async def test_a_patch_that_changes_nothing_answers_200_and_keeps_the_version(
    client: httpx.AsyncClient, ada: dict[str, Any]
) -> None:
    for body in ({}, {"first_name": " Ada "}, {"username": "ada"}):
        response = await patch(client, ada, body)
        assert (response.status_code, response.json(), response.headers["etag"]) == (200, ada, '"1"')


async def test_patch_accepts_plain_json_too(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    response = await client.patch(f"{API}/{ada['id']}", json={"first_name": "Augusta"})
    assert response.json()["first_name"] == "Augusta"


@pytest.mark.parametrize("content_type", ["text/plain", "application/json-patch+json", "application/xml"])
async def test_patch_in_another_media_type_is_415(
    client: httpx.AsyncClient, ada: dict[str, Any], content_type: str
) -> None:
    response = await client.patch(f"{API}/{ada['id']}", content=b"{}", headers={"content-type": content_type})
    assert_problem(response, 415, "unsupported_media_type")


async def test_patch_of_a_missing_user_is_404(client: httpx.AsyncClient) -> None:
    response = await patch(client, {"id": "01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11"}, {"first_name": "X"})
    assert_problem(response, 404, "user_not_found")


async def test_patch_to_a_taken_email_is_409_and_changes_nothing(
    client: httpx.AsyncClient, ada: dict[str, Any]
) -> None:
    await register(client, "bob")
    body = assert_problem(await patch(client, ada, {"email": "BOB@example.com"}), 409, "user_conflict")
    assert body["conflicts"] == [{"field": "email"}]
    assert (await client.get(f"{API}/{ada['id']}")).json() == ada


@pytest.mark.parametrize("field", ["id", "version", "created_at", "nickname"])
async def test_patch_with_an_unknown_field_is_422(
    client: httpx.AsyncClient, ada: dict[str, Any], field: str
) -> None:
    body = assert_problem(await patch(client, ada, {field: "x"}), 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == [field]


async def test_patch_body_must_be_an_object(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    assert_problem(await patch(client, ada, ["first_name"]), 422, "validation_failed")


@pytest.mark.parametrize("if_match", ['"1"', "*", '"5", "1"'])
async def test_patch_with_a_matching_if_match_succeeds(
    client: httpx.AsyncClient, ada: dict[str, Any], if_match: str
) -> None:
    assert (await patch(client, ada, {"first_name": "A"}, **{"if-match": if_match})).status_code == 200


# Well-formed entity tags that do not match; a malformed one (an unquoted 1) is a 422 instead
# (test_schema_entity_tags.py).
@pytest.mark.parametrize("if_match", ['"2"', 'W/"1"', '"abc"', '"99999999999999999999999"', '""'])
async def test_patch_with_a_stale_or_foreign_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, ada: dict[str, Any], if_match: str
) -> None:
    assert_problem(
        await patch(client, ada, {"first_name": "A"}, **{"if-match": if_match}), 412, "version_mismatch"
    )
    assert (await client.get(f"{API}/{ada['id']}")).json() == ada


async def test_two_concurrent_patches_with_the_same_if_match_give_one_200_and_one_412(
    client: httpx.AsyncClient, ada: dict[str, Any]
) -> None:
    responses = await asyncio.gather(
        patch(client, ada, {"first_name": "One"}, **{"if-match": '"1"'}),
        patch(client, ada, {"first_name": "Two"}, **{"if-match": '"1"'}),
    )
    assert sorted(response.status_code for response in responses) == [200, 412]
    assert (await client.get(f"{API}/{ada['id']}")).json()["version"] == 2
