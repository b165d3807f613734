"""If-Match and If-None-Match: the schema publishes their syntax (RFC 9110: `*` or a comma-separated
list of entity tags, `"..."` or `W/"..."`), and the API answers exactly by it: a value of another
shape is a 422 naming the header, before any 412 or 304; a well-formed one is compared as before."""

import re
from typing import Any

import httpx
import pytest

from tests.api.conftest import API, assert_problem, register

MERGE_PATCH = {"content-type": "application/merge-patch+json"}
USER = f"{API}/{{user_id}}"

# Written out by hand from RFC 9110 (8.8.3 and 13.1.1), not derived from the pattern.
WELL_FORMED = [
    "*",
    '"1"',
    'W/"1"',
    '""',
    '"a,b"',  # a comma inside a tag is part of it
    '"7","1"',
    '"7" ,\t W/"1"',
    '"!#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~"',  # every visible ASCII character but the double quote
]
MALFORMED = [
    "S3NT1NEL",
    "1",
    "W/1",
    'w/"1"',  # the weak prefix is case-sensitive
    '"1',
    '"1",',
    ',"1"',
    '"1" "2"',
    '"a"b"',
    '*, "1"',  # `*` stands alone
    '"*',
    "**",
]


def conforms(schema: dict[str, Any], value: str) -> bool:
    """The published schema's verdict: `anyOf` a const or a pattern (JSON Schema patterns search)."""
    return any(
        value == branch["const"] if "const" in branch else re.search(branch["pattern"], value) is not None
        for branch in schema["anyOf"]
    )


@pytest.fixture
async def header_schemas(client: httpx.AsyncClient) -> dict[tuple[str, str], dict[str, Any]]:
    paths = (await client.get("/openapi.json")).json()["paths"]
    return {
        (method, parameter["name"]): parameter["schema"]
        for method, operation in paths[USER].items()
        for parameter in operation["parameters"]
        if parameter["name"] in ("if-match", "if-none-match")
    }


async def test_the_schema_publishes_the_syntax_of_both_headers(
    header_schemas: dict[tuple[str, str], dict[str, Any]],
) -> None:
    assert set(header_schemas) == {("get", "if-none-match"), ("patch", "if-match"), ("delete", "if-match")}
    for schema in header_schemas.values():
        assert schema["type"] == "string"
        assert [value for value in WELL_FORMED if not conforms(schema, value)] == []
        assert [value for value in MALFORMED if conforms(schema, value)] == []


@pytest.fixture
async def ada(client: httpx.AsyncClient) -> dict[str, Any]:
    user: dict[str, Any] = await register(client, "ada", first_name="Ada")
    return user


def assert_header_refused(response: httpx.Response, header: str) -> None:
    body = assert_problem(response, 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == [header]


@pytest.mark.parametrize("value", MALFORMED)
async def test_a_malformed_if_match_is_a_422_and_changes_nothing(
    client: httpx.AsyncClient, ada: dict[str, Any], value: str
) -> None:
    url = f"{API}/{ada['id']}"
    patched = await client.patch(url, json={"first_name": "A"}, headers={**MERGE_PATCH, "if-match": value})
    assert_header_refused(patched, "if-match")
    assert_header_refused(await client.delete(url, headers={"if-match": value}), "if-match")
    assert (await client.get(url)).json() == ada


@pytest.mark.parametrize("value", MALFORMED)
async def test_a_malformed_if_none_match_is_a_422(
    client: httpx.AsyncClient, ada: dict[str, Any], value: str
) -> None:
    response = await client.get(f"{API}/{ada['id']}", headers={"if-none-match": value})
    assert_header_refused(response, "if-none-match")


async def test_a_malformed_tag_is_never_echoed(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    url = f"{API}/{ada['id']}"
    for response in (
        await client.delete(url, headers={"if-match": "S3NT1NEL"}),
        await client.get(url, headers={"if-none-match": "S3NT1NEL"}),
    ):
        assert "S3NT1NEL" not in response.text


async def test_obs_text_in_a_tag_is_malformed(client: httpx.AsyncClient, ada: dict[str, Any]) -> None:
    # Bytes over 0x7F are obsolete in entity tags (RFC 9110, 5.5): left out by the schema and the API.
    response = await client.delete(f"{API}/{ada['id']}", headers={b"if-match": b'"\xe9"'})
    assert_problem(response, 422, "validation_failed")


@pytest.mark.parametrize(
    ("if_match", "status"),
    [
        ("*", 200),
        ('"1"', 200),
        ('"7" ,\t "1"', 200),
        ('"a,b", "1"', 200),
        ('"2"', 412),
        ('W/"1"', 412),  # If-Match compares strongly: a weak tag never matches
        ('"a,b"', 412),
        ('""', 412),
    ],
)
async def test_a_well_formed_if_match_is_compared_as_before(
    client: httpx.AsyncClient, ada: dict[str, Any], if_match: str, status: int
) -> None:
    url = f"{API}/{ada['id']}"
    response = await client.patch(
        url, json={"first_name": "A"}, headers={**MERGE_PATCH, "if-match": if_match}
    )
    assert response.status_code == status, response.text
    assert (await client.get(url)).json()["version"] == (2 if status == 200 else 1)


@pytest.mark.parametrize(
    ("if_match", "status"), [('"5", "1"', 204), ('W/"1"', 412), ('"2"', 412), ("*", 204)]
)
async def test_delete_compares_a_well_formed_if_match_as_before(
    client: httpx.AsyncClient, ada: dict[str, Any], if_match: str, status: int
) -> None:
    response = await client.delete(f"{API}/{ada['id']}", headers={"if-match": if_match})
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("if_none_match", "status"),
    [("*", 304), ('"7" , W/"1"', 304), ('"a,b"', 200), ('"7"', 200), ('W/"7"', 200)],
)
async def test_a_well_formed_if_none_match_is_compared_weakly_as_before(
    client: httpx.AsyncClient, ada: dict[str, Any], if_none_match: str, status: int
) -> None:
    response = await client.get(f"{API}/{ada['id']}", headers={"if-none-match": if_none_match})
    assert (response.status_code, response.headers["etag"]) == (status, '"1"')


async def test_an_invalid_patch_body_is_a_422_before_a_stale_if_match_is_a_412(
    client: httpx.AsyncClient, ada: dict[str, Any]
) -> None:
    url = f"{API}/{ada['id']}"
    stale = await client.patch(url, json={"id": "x"}, headers={**MERGE_PATCH, "if-match": '"9"'})
    assert [error["field"] for error in assert_problem(stale, 422, "validation_failed")["errors"]] == ["id"]
    both = await client.patch(url, json={"id": "x"}, headers={**MERGE_PATCH, "if-match": "9"})
    fields = {error["field"] for error in assert_problem(both, 422, "validation_failed")["errors"]}
    assert fields == {"id", "if-match"}


async def test_a_malformed_if_match_is_a_422_even_for_a_missing_user(client: httpx.AsyncClient) -> None:
    url = USER.format(user_id="01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11")
    assert_header_refused(await client.delete(url, headers={"if-match": "9"}), "if-match")
    assert_problem(await client.delete(url, headers={"if-match": '"9"'}), 404, "user_not_found")
