import re
from typing import Any

import httpx
import pytest
from dependency_injector import providers

from bootstrap import Container
from tests.api.conftest import API, assert_problem, register
from tests.clock import ManualClock
from tests.paging import pages_needed, walk_pages
from tests.sorted_people import EXPECTED, PEOPLE, ScriptedIds

BULK = f"{API}/bulk"
NEXT = re.compile(r'<(?P<url>[^>]+)>; rel="next"')
# Where the test client's own `admin` (created after them, now) falls among tests/sorted_people.py:
# key "admin" comes after "a_z" and "abc", before "alice"; "admin@example.com" before "bob@...".
ADMIN_AT = {"created_at": 10, "-created_at": 0, "username": 2, "-username": 8, "email": 0, "-email": 10}


def with_admin(sort: str) -> list[str]:
    names = list(EXPECTED[sort])
    names.insert(ADMIN_AT[sort], "admin")
    return names


async def seed(client: httpx.AsyncClient, names: list[str]) -> list[dict[str, Any]]:
    response = await client.post(BULK, json=[{"username": n, "email": f"{n}@example.com"} for n in names])
    assert response.status_code == 201
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def follow_links(client: httpx.AsyncClient, url: str, *, max_pages: int) -> list[str]:
    async def page(next_url: str | None) -> tuple[list[str], str | None]:
        assert next_url is not None
        response = await client.get(next_url)
        assert response.status_code == 200
        body = response.json()
        link = NEXT.fullmatch(response.headers.get("link", ""))
        assert (link is None) == (body["next_cursor"] is None)
        return [user["username"] for user in body["items"]], None if link is None else link["url"]

    return await walk_pages(page, max_pages=max_pages, start=url)


@pytest.fixture
async def sorted_people(container: Container, client: httpx.AsyncClient) -> None:
    """tests/sorted_people.py, each registered at its own time with its own id."""
    clock, ids = ManualClock(), ScriptedIds()
    with container.clock.override(providers.Object(clock)), container.new_id.override(providers.Object(ids)):
        for person in PEOPLE:
            clock.now = person.created_at
            await register(client, person.username, person.email)


async def test_a_list_of_one_has_no_next_cursor_and_no_link(client: httpx.AsyncClient) -> None:
    response = await client.get(API)
    [admin] = response.json()["items"]  # the test client's own
    assert admin["username"] == "admin"
    assert (response.json()["next_cursor"], response.headers.get("link")) == (None, None)


async def test_list_defaults_to_50_users_in_creation_order(client: httpx.AsyncClient) -> None:
    created = await seed(client, [f"user{i:03}" for i in range(60)])
    body = (await client.get(API)).json()
    assert body["items"][0]["username"] == "admin"  # the test client's own, created first
    assert body["items"][1:] == created[:49]
    assert body["next_cursor"]


async def test_following_next_links_visits_everyone_once_while_users_are_added(
    client: httpx.AsyncClient,
) -> None:
    await seed(client, [f"user{i:02}" for i in range(25)])
    first = await client.get(API, params={"limit": 10, "sort": "-username"})
    await seed(client, ["aaa", "zzz"])

    link = NEXT.fullmatch(first.headers["link"])
    assert link is not None
    assert "sort=-username" in link["url"]
    assert "limit=10" in link["url"]
    rest = await follow_links(client, link["url"], max_pages=pages_needed(25 + 3, 10))

    seen = [user["username"] for user in first.json()["items"]] + rest
    # zzz sorts before the first page, so it is never seen; the client's admin, then aaa, come last.
    assert seen == [*(f"user{i:02}" for i in range(24, -1, -1)), "admin", "aaa"]


@pytest.mark.parametrize("limit", [1, 3])
@pytest.mark.parametrize("sort", ["created_at", "-created_at", "username", "-username", "email", "-email"])
async def test_every_sort_pages_through_all_users_in_the_order_worked_out_by_hand(
    client: httpx.AsyncClient, sorted_people: None, sort: str, limit: int
) -> None:
    url = f"{API}?limit={limit}&sort={sort}"
    seen = await follow_links(client, url, max_pages=pages_needed(len(PEOPLE) + 1, limit))
    assert seen == with_admin(sort)

    page = (await client.get(API, params={"sort": sort, "offset": 4, "limit": 3})).json()
    assert [user["username"] for user in page["items"]] == with_admin(sort)[4:7]


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 201},
        {"limit": "ten"},
        {"offset": -1},
        {"offset": 10**30},
        {"sort": "Username"},
        {"sort": "password"},
        {"sort": "id"},
        {"q": ""},
        {"email": "x" * 255},
        {"q": "a\u0000b"},
        {"include_total": "maybe"},
    ],
)
async def test_out_of_range_or_unknown_values_are_422(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    body = assert_problem(await client.get(API, params=params), 422, "validation_failed")
    assert [error["field"] for error in body["errors"]] == list(params)


async def test_limit_200_is_accepted(client: httpx.AsyncClient) -> None:
    assert (await client.get(API, params={"limit": 200})).status_code == 200


@pytest.mark.parametrize("offset", [0, 5])
async def test_a_cursor_with_an_offset_is_400(client: httpx.AsyncClient, offset: int) -> None:
    await seed(client, ["ada", "bob", "carol"])
    cursor = (await client.get(API, params={"limit": 1})).json()["next_cursor"]
    response = await client.get(API, params={"cursor": cursor, "offset": offset})
    assert_problem(response, 400, "invalid_cursor")


@pytest.mark.parametrize("cursor", ["garbage", "eyJhIjoxfQ", "W10", "!" * 100])
async def test_a_bad_cursor_is_400_invalid_cursor(client: httpx.AsyncClient, cursor: str) -> None:
    body = assert_problem(await client.get(API, params={"cursor": cursor}), 400, "invalid_cursor")
    assert cursor not in body["detail"]


@pytest.mark.parametrize("other", [{"sort": "email"}, {"q": "a"}, {"username": "ada"}, {"email": "a@x.io"}])
async def test_a_cursor_from_another_sort_or_filter_is_400(
    client: httpx.AsyncClient, other: dict[str, str]
) -> None:
    await seed(client, ["ada", "bob", "carol"])
    cursor = (await client.get(API, params={"limit": 1})).json()["next_cursor"]
    assert_problem(await client.get(API, params={"cursor": cursor, **other}), 400, "invalid_cursor")


async def test_offset_pages_by_number(client: httpx.AsyncClient) -> None:
    created = await seed(client, [f"user{i}" for i in range(7)])
    body = (await client.get(API, params={"offset": 4, "limit": 2})).json()
    assert body["items"] == created[3:5]  # past the client's admin and three others


async def test_filters_match_exactly_or_by_substring_without_regard_to_case(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "ada", "Ada@Example.com", first_name="Ada", last_name="Lovelace")
    await register(client, "grace", "grace@navy.mil", last_name="Hopper")
    await register(client, "under_score", "u@example.com", last_name="50% off \\o/")

    async def usernames(**params: str) -> list[str]:
        return [user["username"] for user in (await client.get(API, params=params)).json()["items"]]

    assert await usernames(email="ADA@EXAMPLE.COM") == ["ada"]
    assert await usernames(email="ada") == []
    assert await usernames(username="Grace") == ["grace"]
    assert await usernames(q="LOVE") == ["ada"]
    assert await usernames(q="example") == ["admin", "ada", "under_score"]
    assert await usernames(q="%") == ["under_score"]
    assert await usernames(q="r_s") == ["under_score"]
    assert await usernames(q="\\") == ["under_score"]
    assert await usernames(q="a_a") == []


async def test_include_total_counts_every_matching_user(client: httpx.AsyncClient) -> None:
    await seed(client, ["ada", "bob", "adam", "carol"])
    assert "total" not in (await client.get(API)).json()
    body = (await client.get(API, params={"include_total": "true", "q": "ada", "limit": 1})).json()
    assert (len(body["items"]), body["total"]) == (1, 2)
