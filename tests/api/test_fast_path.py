"""The fast path answers as the routes do: the same requests, sent to an app with it and to one
without it (two stores in the same state, one clock, the same ids), get the same answers."""

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

import httpx
import orjson
import pytest
from dependency_injector import providers

from bootstrap import Container, Settings, create_container
from domain.model import Profile, Role, User
from entrypoints.http import create_app
from entrypoints.http.headers import next_link
from entrypoints.http.render import user_fields, user_json
from tests.api.conftest import ADMIN, API, TESTING, TOKEN, bearer
from tests.clock import ManualClock

NOW = datetime.now(UTC).replace(microsecond=0)  # a whole second: a timestamp's fraction shows
ADA_ID = UUID(int=1)
SHOWN = ("content-type", "etag", "location", "link", "www-authenticate", "retry-after", "allow")


def identical_ids() -> Iterator[UUID]:
    return (UUID(int=n) for n in range(1, 1_000))


async def twin(fast_path: bool) -> tuple[Container, httpx.AsyncClient]:
    container = create_container(Settings(_env_file=None, database_url="memory://", **TESTING))
    ids = identical_ids()
    container.clock.override(providers.Object(ManualClock(NOW)))
    container.new_id.override(providers.Object(lambda: next(ids)))
    admin = User(UUID(int=999_999), Profile.parse(ADMIN), NOW, NOW, role=Role.ADMIN)
    await container.repository().add(admin)
    app = create_app(container, fast_path=fast_path)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"X-Request-ID": "same-for-both", **bearer(container.tokens().issue(admin).value)}
    return container, httpx.AsyncClient(transport=transport, base_url="http://localhost", headers=headers)


@pytest.fixture
async def both() -> AsyncIterator[list[httpx.AsyncClient]]:
    clients = [(await twin(fast_path))[1] for fast_path in (True, False)]
    yield clients
    for client in clients:
        await client.aclose()


async def same_answer(
    clients: list[httpx.AsyncClient], method: str, url: str, **options: Any
) -> httpx.Response:
    fast, routes = [await client.request(method, url, **options) for client in clients]
    assert fast.status_code == routes.status_code, (method, url, fast.text, routes.text)
    assert fast.content == routes.content, (method, url)
    assert {name: fast.headers.get(name) for name in SHOWN} == {
        name: routes.headers.get(name) for name in SHOWN
    }
    return fast


async def test_creates_reads_and_pages_answer_alike(both: list[httpx.AsyncClient]) -> None:
    ada = {
        "username": "ada",
        "email": "ada@example.com",
        "first_name": " Ada ",
        "password": "a long password",
    }
    created = await same_answer(both, "POST", API, json=ada)
    assert (created.status_code, created.json()["id"]) == (201, str(ADA_ID))
    for index in range(5):
        await same_answer(
            both, "POST", API, json={"username": f"user{index}", "email": f"u{index}@example.com"}
        )

    await same_answer(both, "POST", API, json=ada)  # 409
    await same_answer(
        both, "POST", API, content=b'{"username": "ada"', headers={"content-type": "application/json"}
    )
    await same_answer(both, "POST", API, json={**ada, "id": 1})  # 422, unknown field
    await same_answer(both, "POST", API, json={"username": "x", "email": "nope"})  # 422, by the rules
    await same_answer(both, "POST", API, json=["not", "an", "object"])
    await same_answer(
        both, "POST", API, content=b'{"username": "zed", "email": "zed@example.com"}',
        headers={"content-type": "application/json; charset=utf-8"},
    )  # fmt: skip
    await same_answer(both, "POST", API, json=ada, headers={"authorization": "Bearer nonsense"})
    bob = {"username": "bob", "email": "bob@example.com"}
    for body, key in [
        (bob, "k1"), (bob, "k1"),  # 201, then the same again
        ({**bob, "first_name": "Bob"}, "k1"),  # 422 reused
        (ada, "k2"),  # 409 taken, not stored
        ({"username": "cy", "email": "cy@example.com"}, "k2"),  # 201: the key was given back
        (bob, ""), (bob, "x" * 256), (bob, "tab\there"), (bob, " k1"),  # 422 bad keys; " k1" is "k1"
    ]:  # fmt: skip
        await same_answer(both, "POST", API, json=body, headers={"idempotency-key": key})

    for url in [
        f"{API}/{ADA_ID}",
        f"{API}/{UUID(int=424242)}",
        f"{API}/{str(ADA_ID).upper()}",
        f"{API}/nope",
    ]:
        await same_answer(both, "GET", url)
    await same_answer(both, "GET", f"{API}/{ADA_ID}", headers={"if-none-match": '"1"'})
    await same_answer(both, "GET", f"{API}/{ADA_ID}", headers={"authorization": ""})

    first = await same_answer(both, "GET", API, params={"limit": 2})
    await same_answer(both, "GET", API, params={"limit": 2, "cursor": first.json()["next_cursor"]})
    for params in [
        {}, {"sort": "-username", "limit": 3}, {"sort": "email"}, {"limit": 200}, {"limit": 0},
        {"limit": 201}, {"limit": "05"}, {"cursor": "garbage"},
        {"cursor": first.json()["next_cursor"], "sort": "email"},
        {"sort": "Username"}, {"q": "user"}, {"include_total": "true"}, {"offset": 2},
    ]:  # fmt: skip
        await same_answer(both, "GET", API, params=params)
    await same_answer(both, "GET", f"{API}?limit=1&limit=2")
    # Escaped, empty or unknown parts are the routes' (and their Link escapes what it must).
    for query in ["limit=2&", "limit=%32", "sort=%2Dusername&limit=2", "limit=2&q=user+1", "limit=2&a%20b=1"]:
        await same_answer(both, "GET", f"{API}?{query}")
    for query in ["=2", "limit", "limit=2&&sort=email", "limit=2&sort=email&q=%C3%A9"]:
        await same_answer(both, "GET", f"{API}?{query}")
    await same_answer(both, "GET", API, headers={"authorization": "Basic abc"})


async def test_a_member_and_a_stranger_are_answered_alike(both: list[httpx.AsyncClient]) -> None:
    await same_answer(
        both, "POST", API, json={"username": "ada", "email": "ada@example.com", "password": "x" * 12}
    )
    await same_answer(both, "POST", API, json={"username": "bob", "email": "bob@example.com"})
    grant = {"grant_type": "password", "username": "ada", "password": "x" * 12}
    token = (await same_answer(both, "POST", TOKEN, data=grant)).json()["access_token"]
    ada = bearer(token)

    await same_answer(both, "GET", f"{API}/{ADA_ID}", headers=ada)
    await same_answer(both, "GET", f"{API}/{UUID(int=2)}", headers=ada)  # bob: 404 to her
    await same_answer(both, "GET", API, headers=ada)  # 403
    await same_answer(both, "POST", API, headers=ada, json={"username": "eve", "email": "eve@example.com"})
    await same_answer(both, "GET", API, headers={"authorization": ""})


async def test_the_fast_path_answers_the_commonest_requests_without_the_routes() -> None:
    _container, client = await twin(fast_path=True)
    client._transport.app.router.routes.clear()  # type: ignore[attr-defined]  # the routes are gone

    created = await client.post(API, json={"username": "ada", "email": "ada@example.com"})
    keyed = {"username": "bob", "email": "bob@example.com"}, {"idempotency-key": "k"}
    assert (await client.post(API, json=keyed[0], headers=keyed[1])).status_code == 201
    one = await client.get(f"{API}/{ADA_ID}")
    page = await client.get(API, params={"limit": 1, "sort": "username"})
    beyond = await client.get(API, params={"q": "ada"})  # not a plain page: for the routes, gone

    assert [created.status_code, one.status_code, page.status_code, beyond.status_code] == [
        201,
        200,
        200,
        404,
    ]
    assert page.json()["items"] == [one.json()]
    await client.aclose()


def test_a_next_link_escapes_what_urlencode_would() -> None:
    cursor = "WyJhIiwiYiJd-_"
    for query in [[("limit", "2")], [("limit", "2"), ("q", "user 1")], [("a b", "1"), ("sort", "-email")]]:
        expected = f'</api/v1/users?{urlencode([*query, ("cursor", cursor)])}>; rel="next"'
        assert next_link("/api/v1/users", [*query, ("cursor", "old"), ("offset", "3")], cursor) == expected


def test_a_users_json_is_kept_from_its_second_showing_and_a_change_is_shown() -> None:
    ada = User(ADA_ID, Profile.parse({"username": "ada", "email": "ada@example.com"}), NOW, NOW)
    shown = [orjson.dumps(user_json(ada)) for _ in range(3)]
    assert shown == [orjson.dumps(user_fields(ada))] * 3
    assert isinstance(ada.shown, orjson.Fragment)  # kept
    renamed = ada.changed(NOW, profile=Profile.parse({"username": "ada2", "email": "ada@example.com"}))
    assert renamed.shown is None  # a new user: nothing kept from the old one
    assert orjson.loads(orjson.dumps(user_json(renamed)))["username"] == "ada2"
    assert renamed == ada.changed(NOW, profile=renamed.profile)  # the memo is never compared
