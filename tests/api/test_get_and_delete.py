import httpx
import pytest

from tests.api.conftest import API, assert_problem, register

MISSING = "01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11"


async def test_get_answers_the_user_with_its_etag(client: httpx.AsyncClient) -> None:
    ada = await register(client, "ada")
    response = await client.get(f"{API}/{ada['id']}")
    assert (response.status_code, response.json(), response.headers["etag"]) == (200, ada, '"1"')


@pytest.mark.parametrize("if_none_match", ['"1"', 'W/"1"', '"7", "1"', "*"])
async def test_get_answers_304_repeating_the_etag_when_if_none_match_matches(
    client: httpx.AsyncClient, if_none_match: str
) -> None:
    ada = await register(client, "ada")
    response = await client.get(f"{API}/{ada['id']}", headers={"if-none-match": if_none_match})
    assert (response.status_code, response.content, response.headers["etag"]) == (304, b"", '"1"')


async def test_get_answers_200_when_if_none_match_is_stale(client: httpx.AsyncClient) -> None:
    ada = await register(client, "ada")
    await client.patch(f"{API}/{ada['id']}", json={"first_name": "Ada"})
    response = await client.get(f"{API}/{ada['id']}", headers={"if-none-match": '"1"'})
    assert (response.status_code, response.headers["etag"]) == (200, '"2"')


async def test_get_of_a_missing_user_is_a_404_problem(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get(f"{API}/{MISSING}"), 404, "user_not_found")
    assert MISSING not in str(body)


@pytest.mark.parametrize("bad_id", ["42", "not-a-uuid", "01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a1", "x" * 300])
async def test_an_id_that_is_not_a_uuid_is_a_422_that_does_not_echo_it(
    client: httpx.AsyncClient, bad_id: str
) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method, f"{API}/{bad_id}", json={}, headers={"content-type": "application/json"}
        )
        body = assert_problem(response, 422, "validation_failed")
        assert body["errors"] == [{"field": "user_id", "message": "Input should be a valid UUID"}]


async def test_delete_answers_204_and_the_user_is_gone(client: httpx.AsyncClient) -> None:
    ada = await register(client, "ada")

    response = await client.delete(f"{API}/{ada['id']}")

    assert (response.status_code, response.content) == (204, b"")
    assert_problem(await client.get(f"{API}/{ada['id']}"), 404, "user_not_found")
    assert_problem(await client.delete(f"{API}/{ada['id']}"), 404, "user_not_found")
    await register(client, "ADA", "ADA@example.com")  # its username and email are free again


async def test_delete_with_a_stale_if_match_is_412_and_keeps_the_user(client: httpx.AsyncClient) -> None:
    ada = await register(client, "ada")
    await client.patch(f"{API}/{ada['id']}", json={"first_name": "Ada"})

    assert_problem(
        await client.delete(f"{API}/{ada['id']}", headers={"if-match": '"1"'}), 412, "version_mismatch"
    )
    assert (await client.get(f"{API}/{ada['id']}")).status_code == 200
    assert (await client.delete(f"{API}/{ada['id']}", headers={"if-match": '"2"'})).status_code == 204
