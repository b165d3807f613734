"""Who may do what, over HTTP: tokens, roles, and no member who can reach another's record."""

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.tokens import JwtTokens
from bootstrap import Container
from tests.api.conftest import API, TESTING, assert_problem, bearer, login, register

PASSWORD = "correct horse battery"
Member = Callable[[str], Awaitable[tuple[dict[str, Any], dict[str, str]]]]


@pytest.fixture
def member(client: httpx.AsyncClient, anonymous: httpx.AsyncClient) -> Member:
    """Registers a member with a password (through the admin), logs in, and gives their headers."""

    async def make(name: str) -> tuple[dict[str, Any], dict[str, str]]:
        user = await register(client, name, password=PASSWORD)
        return user, bearer(await login(anonymous, name, PASSWORD))

    return make


def forge(claims: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


def unauthenticated(response: httpx.Response) -> None:
    assert_problem(response, 401, "unauthenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", API),
        ("POST", API),
        ("POST", f"{API}/bulk"),
        ("GET", f"{API}/me"),
        ("GET", f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11"),
        ("PATCH", f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11"),
        ("DELETE", f"{API}/01936f0e-7a5c-7b1e-9d3a-2f5c1b0e4a11"),
    ],
)
async def test_every_call_without_a_token_is_a_401_with_a_bearer_challenge(
    anonymous: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await anonymous.request(method, path, json={"username": "eve", "email": "eve@example.com"})
    unauthenticated(response)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_health_the_schema_and_the_docs_need_no_token(anonymous: httpx.AsyncClient) -> None:
    for path in ["/health/live", "/health/ready", "/openapi.json", "/docs"]:
        assert (await anonymous.get(path)).status_code == 200, path


@pytest.mark.parametrize(
    "authorization",
    [
        "Bearer",
        "Bearer garbage",
        "Basic YWRtaW46cGFzc3dvcmQ=",
        "bearer a.b.c",
        "Bearer " + forge({"iss": "users-api", "sub": "x", "role": "admin", "cv": 1, "iat": 1, "exp": 2**40}),
    ],
)
async def test_a_malformed_token_is_a_401(anonymous: httpx.AsyncClient, authorization: str) -> None:
    unauthenticated(await anonymous.get(f"{API}/me", headers={"Authorization": authorization}))


async def test_an_expired_a_tampered_and_an_other_secret_token_are_401s(
    container: Container, client: httpx.AsyncClient, anonymous: httpx.AsyncClient, member: Member
) -> None:
    ada, ada_headers = await member("ada")
    stored = await container.repository().find_by_login("ada")
    assert stored is not None
    expired = JwtTokens(
        TESTING["token_secret"].encode(),
        timedelta(minutes=15),
        lambda: datetime.now(UTC) - timedelta(hours=1),
    ).issue(stored)
    other = JwtTokens(b"another secret, also 32 bytes long", timedelta(minutes=15), lambda: datetime.now(UTC))
    head, payload, signature = ada_headers["Authorization"].removeprefix("Bearer ").split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    promoted = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode()).decode().rstrip("=")

    for token in [expired.value, other.issue(stored).value, f"{head}.{promoted}.{signature}"]:
        unauthenticated(await anonymous.get(API, headers=bearer(token)))
    assert (await anonymous.get(f"{API}/me", headers=ada_headers)).json()["id"] == ada["id"]


async def test_a_token_of_a_removed_user_is_a_401(client: httpx.AsyncClient, member: Member) -> None:
    ada, headers = await member("ada")
    assert (await client.delete(f"{API}/{ada['id']}")).status_code == 204
    unauthenticated(await client.get(f"{API}/me", headers=headers))


async def test_a_password_change_revokes_earlier_tokens(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, member: Member
) -> None:
    ada, before = await member("ada")
    changed = await anonymous.patch(
        f"{API}/{ada['id']}", headers=before,
        json={"password": "a brand new password", "current_password": PASSWORD},
    )  # fmt: skip
    assert changed.status_code == 200, changed.text

    unauthenticated(await anonymous.get(f"{API}/me", headers=before))
    after = bearer(await login(anonymous, "ada", "a brand new password"))
    assert (await anonymous.get(f"{API}/me", headers=after)).status_code == 200


async def test_a_role_change_revokes_earlier_tokens(client: httpx.AsyncClient, member: Member) -> None:
    ada, headers = await member("ada")
    assert (await client.patch(f"{API}/{ada['id']}", json={"role": "admin"})).status_code == 200
    unauthenticated(await client.get(API, headers=headers))


async def test_me_is_the_caller_with_an_etag(anonymous: httpx.AsyncClient, member: Member) -> None:
    ada, headers = await member("ada")
    response = await anonymous.get(f"{API}/me", headers=headers)
    assert response.status_code == 200
    assert response.json() == ada
    assert response.headers["etag"] == '"1"'
    assert (ada["role"], ada["has_password"]) == ("member", True)


async def test_a_member_reaching_another_member_finds_nothing_and_changes_nothing(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, member: Member
) -> None:
    _, ada = await member("ada")
    bob, _ = await member("bob")
    path = f"{API}/{bob['id']}"

    assert_problem(await anonymous.get(path, headers=ada), 404, "user_not_found")
    assert_problem(await anonymous.patch(path, headers=ada, json={"first_name": "X"}), 404, "user_not_found")
    assert_problem(await anonymous.delete(path, headers=ada), 404, "user_not_found")
    assert (await client.get(path)).json() == bob


async def test_a_member_may_not_list_register_or_set_their_role(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, member: Member
) -> None:
    ada, headers = await member("ada")
    assert_problem(await anonymous.get(API, headers=headers), 403, "forbidden")
    new = {"username": "eve", "email": "eve@example.com"}
    assert_problem(await anonymous.post(API, headers=headers, json=new), 403, "forbidden")
    assert_problem(await anonymous.post(f"{API}/bulk", headers=headers, json=[new]), 403, "forbidden")
    own = f"{API}/{ada['id']}"
    assert_problem(await anonymous.patch(own, headers=headers, json={"role": "admin"}), 403, "forbidden")

    assert (await client.get(own)).json() == ada
    assert (await client.get(API, params={"username": "eve"})).json()["items"] == []


async def test_a_member_changes_and_removes_themselves(anonymous: httpx.AsyncClient, member: Member) -> None:
    ada, headers = await member("ada")
    own = f"{API}/{ada['id']}"
    changed = await anonymous.patch(own, headers=headers, json={"last_name": "Lovelace"})
    assert (changed.status_code, changed.json()["last_name"]) == (200, "Lovelace")
    assert (await anonymous.delete(own, headers=headers)).status_code == 204


async def test_a_member_needs_the_current_password_to_set_a_new_one(
    anonymous: httpx.AsyncClient, member: Member
) -> None:
    ada, headers = await member("ada")
    own = f"{API}/{ada['id']}"
    for body in [{"password": "a brand new password"},
                 {"password": "a brand new password", "current_password": "not the password"}]:  # fmt: skip
        problem = assert_problem(
            await anonymous.patch(own, headers=headers, json=body), 422, "validation_failed"
        )
        assert [error["field"] for error in problem["errors"]] == ["current_password"]
        assert "not the password" not in json.dumps(problem)
    assert await login(anonymous, "ada", PASSWORD)


async def test_passwords_and_hashes_are_never_answered(client: httpx.AsyncClient, member: Member) -> None:
    ada, _ = await member("ada")
    everyone = (await client.get(API)).text + (await client.get(f"{API}/{ada['id']}")).text
    assert PASSWORD not in everyone
    assert "argon2" not in everyone
    assert set(ada) == {"id", "username", "email", "first_name", "last_name", "created_at", "updated_at",
                        "version", "role", "has_password"}  # fmt: skip


async def test_an_admin_sets_a_role_and_a_password(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    eve = await register(client, "eve")
    assert eve["has_password"] is False
    changed = await client.patch(f"{API}/{eve['id']}", json={"role": "admin", "password": PASSWORD})
    assert (changed.json()["role"], changed.json()["has_password"]) == ("admin", True)
    headers = bearer(await login(anonymous, "eve", PASSWORD))
    assert (await anonymous.get(API, headers=headers)).status_code == 200


async def test_the_last_admin_is_neither_removed_nor_demoted(client: httpx.AsyncClient) -> None:
    me = (await client.get(f"{API}/me")).json()
    assert_problem(await client.delete(f"{API}/{me['id']}"), 409, "last_admin")
    assert_problem(await client.patch(f"{API}/{me['id']}", json={"role": "member"}), 409, "last_admin")
    assert (await client.get(f"{API}/me")).json() == me


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    container: Container, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    me = (await client.get(f"{API}/me")).json()
    other = await register(client, "other", role="admin", password=PASSWORD)
    other_headers = bearer(await login(anonymous, "other", PASSWORD))

    answers = await asyncio.gather(
        client.patch(f"{API}/{other['id']}", json={"role": "member"}),
        anonymous.patch(f"{API}/{me['id']}", headers=other_headers, json={"role": "member"}),
    )

    # One wins; the other is refused as the last admin, or, when the winner demoted it before it
    # was authenticated, as a token revoked by that role change.
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([200, 409], [200, 401]), statuses
    stored = [await container.repository().get(UUID(user["id"])) for user in (me, other)]
    assert sorted(user.role for user in stored if user) == ["admin", "member"]


@pytest.mark.settings(open_registration=True)
async def test_open_registration_lets_anyone_register_a_member_and_no_more(
    anonymous: httpx.AsyncClient, member: Member
) -> None:
    eve = await anonymous.post(
        API, json={"username": "eve", "email": "eve@example.com", "password": PASSWORD}
    )
    assert (eve.status_code, eve.json()["role"]) == (201, "member")
    assert await login(anonymous, "eve", PASSWORD)
    mallory = {"username": "mallory", "email": "mallory@example.com", "role": "admin"}
    assert_problem(await anonymous.post(API, json=mallory), 403, "forbidden")
    _, ada = await member("ada")
    assert_problem(await anonymous.get(API, headers=ada), 403, "forbidden")


async def test_registration_is_closed_by_default(anonymous: httpx.AsyncClient) -> None:
    unauthenticated(await anonymous.post(API, json={"username": "eve", "email": "eve@example.com"}))


@pytest.mark.settings(token_revocation_delay=5)
async def test_me_of_a_removed_user_is_a_401_at_once_even_within_the_delay(
    client: httpx.AsyncClient, member: Member
) -> None:
    ada, headers = await member("ada")
    assert (await client.get(f"{API}/me", headers=headers)).status_code == 200  # her version, read
    assert (await client.delete(f"{API}/{ada['id']}")).status_code == 204

    unauthenticated(await client.get(f"{API}/me", headers=headers))
