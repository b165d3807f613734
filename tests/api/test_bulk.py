import httpx
import pytest

from tests.api.conftest import API, assert_problem, register

BULK = f"{API}/bulk"


def drafts(count: int, prefix: str = "user") -> list[dict[str, str]]:
    return [{"username": f"{prefix}{i}", "email": f"{prefix}{i}@example.com"} for i in range(count)]


async def total(client: httpx.AsyncClient) -> int:
    """How many users are stored besides the test client's own admin."""
    return int((await client.get(API, params={"include_total": "true", "limit": 1})).json()["total"]) - 1


async def test_bulk_answers_201_with_every_user_in_input_order(client: httpx.AsyncClient) -> None:
    response = await client.post(BULK, json=drafts(3))

    assert response.status_code == 201
    assert [user["username"] for user in response.json()["items"]] == ["user0", "user1", "user2"]
    admin, *listed = (await client.get(API)).json()["items"]
    assert admin["username"] == "admin"  # the test client's own, registered first
    assert listed == response.json()["items"]


async def test_bulk_accepts_1000_items(client: httpx.AsyncClient) -> None:
    assert (await client.post(BULK, json=drafts(1000))).status_code == 201
    assert await total(client) == 1000


@pytest.mark.parametrize("count", [0, 1001])
async def test_bulk_answers_422_outside_1_to_1000_items(client: httpx.AsyncClient, count: int) -> None:
    assert_problem(await client.post(BULK, json=drafts(count)), 422, "validation_failed")
    assert await total(client) == 0


async def test_bulk_writes_nothing_when_an_item_is_invalid_and_names_it_by_index(
    client: httpx.AsyncClient,
) -> None:
    items = [
        *drafts(3),
        {"username": "x", "email": "bad"},
        {"username": "ok1", "email": "ok1@example.com", "id": 1},
    ]

    body = assert_problem(await client.post(BULK, json=items), 422, "validation_failed")

    assert {(error["index"], error["field"]) for error in body["errors"]} == {(4, "id")}
    assert await total(client) == 0
    body = assert_problem(await client.post(BULK, json=items[:4]), 422, "validation_failed")
    assert [(error["index"], error["field"]) for error in body["errors"]] == [(3, "username"), (3, "email")]
    assert await total(client) == 0


async def test_bulk_writes_nothing_when_items_collide_with_each_other_or_stored_users(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "ada")
    items = [
        *drafts(2),
        {"username": "ADA", "email": "new@example.com"},
        {"username": "xavier", "email": "USER0@example.com"},
    ]

    body = assert_problem(await client.post(BULK, json=items), 409, "user_conflict")

    assert body["conflicts"] == [{"field": "username", "index": 2}, {"field": "email", "index": 3}]
    assert "USER0@example.com" not in str(body)
    assert await total(client) == 1


async def test_bulk_requires_a_json_array(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post(BULK, json=drafts(1)[0]), 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == ["body"]
    assert_problem(
        await client.post(BULK, content=b"[]", headers={"content-type": "text/csv"}),
        415,
        "unsupported_media_type",
    )
