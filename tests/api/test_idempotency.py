"""Idempotency-Key on POST /users and POST /users/bulk, over HTTP, on each storage."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bootstrap import Container
from domain.model import Profile, Role, User
from domain.sources import Uuid7Ids
from tests.api.conftest import API, _client, assert_problem, stored_names

BULK = f"{API}/bulk"
ADA = {"username": "ada", "email": "ada@example.com", "password": "analytical engine"}
BOB = {"username": "bob", "email": "bob@example.com"}


def keyed(key: str) -> dict[str, str]:
    return {"Idempotency-Key": key}


def same_answer(first: httpx.Response, again: httpx.Response) -> None:
    assert (again.status_code, again.content) == (first.status_code, first.content)
    for name in ("etag", "location", "content-type"):
        assert again.headers.get(name) == first.headers.get(name), name


async def another_admin(container: Container, app: FastAPI, name: str) -> httpx.AsyncClient:
    now = datetime.now(UTC)
    profile = Profile.parse({"username": name, "email": f"{name}@example.com"})
    admin = User(Uuid7Ids()(), profile, now, now, role=Role.ADMIN)
    await container.repository().add(admin)
    return _client(app, container.tokens().issue(admin).value)


async def test_a_repeat_gets_the_same_201_status_body_etag_and_location_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    first = await client.post(API, json=ADA, headers=keyed("create-ada"))
    again = await client.post(API, json=ADA, headers=keyed("create-ada"))

    assert first.status_code == 201, first.text
    assert first.headers["location"] == f"{API}/{first.json()['id']}"
    assert first.headers["etag"] == '"1"'
    same_answer(first, again)
    assert again.headers["x-request-id"] != first.headers["x-request-id"]  # a new answer, the same content
    assert await stored_names(client) == ["admin", "ada"]
    # The stored user is the one the answers name, and it is unchanged by the repeat.
    assert (await client.get(first.headers["location"])).json() == first.json()


async def test_the_answer_is_given_again_after_the_user_changed(client: httpx.AsyncClient) -> None:
    first = await client.post(API, json=BOB, headers=keyed("k"))
    changed = await client.patch(first.headers["location"], json={"first_name": "Robert"})
    assert changed.status_code == 200

    same_answer(first, await client.post(API, json=BOB, headers=keyed("k")))


async def test_the_same_key_with_another_body_is_a_422_reused(client: httpx.AsyncClient) -> None:
    await client.post(API, json=ADA, headers=keyed("k"))

    body = assert_problem(await client.post(API, json=BOB, headers=keyed("k")), 422, "idempotency_key_reused")

    assert "bob" not in str(body)
    assert await stored_names(client) == ["admin", "ada"]


async def test_keys_are_each_callers_own(
    container: Container, app: FastAPI, client: httpx.AsyncClient
) -> None:
    async with await another_admin(container, app, "root") as other:
        mine = await client.post(API, json=ADA, headers=keyed("k"))
        theirs = await other.post(API, json=BOB, headers=keyed("k"))

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert await stored_names(client) == ["admin", "root", "ada", "bob"]


@pytest.mark.parametrize(
    "key", ["", "x" * 256, "caf\u00e9".encode().decode("latin-1"), "tab\there", "del\x7f"], ids=repr
)
async def test_a_bad_key_is_a_422_naming_the_header_and_nothing_is_written(
    client: httpx.AsyncClient, key: str
) -> None:
    for path, body in ((API, ADA), (BULK, [ADA])):
        response = await client.post(path, json=body, headers=[(b"Idempotency-Key", key.encode("latin-1"))])
        problem = assert_problem(response, 422, "validation_failed")
        assert [error["field"] for error in problem["errors"]] == ["idempotency-key"]
    assert await stored_names(client) == ["admin"]


async def test_a_bulk_repeat_gets_the_same_201(client: httpx.AsyncClient) -> None:
    first = await client.post(BULK, json=[ADA, BOB], headers=keyed("batch"))
    again = await client.post(BULK, json=[ADA, BOB], headers=keyed("batch"))

    assert first.status_code == 201, first.text
    assert [user["username"] for user in first.json()["items"]] == ["ada", "bob"]
    same_answer(first, again)
    assert await stored_names(client) == ["admin", "ada", "bob"]
    assert_problem(await client.post(BULK, json=[BOB], headers=keyed("batch")), 422, "idempotency_key_reused")


async def test_a_refused_create_is_not_stored_and_its_retry_is_carried_out_afresh(
    client: httpx.AsyncClient,
) -> None:
    taken = await client.post(API, json=ADA)
    assert_problem(await client.post(API, json=ADA, headers=keyed("k")), 409, "user_conflict")
    assert (await client.delete(taken.headers["location"])).status_code == 204

    retried = await client.post(API, json=ADA, headers=keyed("k"))

    assert retried.status_code == 201
    assert retried.json()["id"] != taken.json()["id"]
    assert await stored_names(client) == ["admin", "ada"]


async def test_simultaneous_requests_with_one_key_store_one_user_and_each_answer_201_alike_or_409_in_progress(
    client: httpx.AsyncClient,
) -> None:
    answers = await asyncio.gather(*(client.post(API, json=ADA, headers=keyed("same")) for _ in range(10)))

    created = [answer for answer in answers if answer.status_code == 201]
    print(f"statuses: {sorted(answer.status_code for answer in answers)}")
    assert created, [answer.text for answer in answers]
    for answer in created[1:]:
        same_answer(created[0], answer)
    for answer in answers:
        if answer.status_code != 201:
            assert_problem(answer, 409, "idempotency_in_progress")
            assert answer.headers["retry-after"] == "1"
    assert await stored_names(client) == ["admin", "ada"]
    same_answer(created[0], await client.post(API, json=ADA, headers=keyed("same")))


@pytest.mark.settings(open_registration=True)
async def test_without_a_token_keys_are_shared_by_every_anonymous_caller(
    anonymous: httpx.AsyncClient,
) -> None:
    first = await anonymous.post(API, json=BOB, headers=keyed("k"))
    assert first.status_code == 201
    same_answer(first, await anonymous.post(API, json=BOB, headers=keyed("k")))
    assert_problem(await anonymous.post(API, json=ADA, headers=keyed("k")), 422, "idempotency_key_reused")


async def test_the_schema_declares_the_header_and_the_answers_of_a_keyed_create(
    client: httpx.AsyncClient,
) -> None:
    schema: dict[str, Any] = (await client.get("/openapi.json")).json()
    for path in (API, BULK):
        operation = schema["paths"][path]["post"]
        (parameter,) = [p for p in operation["parameters"] if p["name"] == "idempotency-key"]
        assert (parameter["in"], parameter["required"]) == ("header", False)
        assert parameter["schema"]["maxLength"] == 255
        assert "idempotency_in_progress" in operation["responses"]["409"]["description"]
        assert "Retry-After" in operation["responses"]["409"]["headers"]
        assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
