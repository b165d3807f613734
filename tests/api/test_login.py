"""The token endpoint: the OAuth 2.0 password grant, one answer for every wrong login, and the limit."""

import statistics
import time
from datetime import UTC, datetime

import httpx
import jwt
import pytest
from dependency_injector import providers

from bootstrap import Container
from tests.api.conftest import API, TESTING, TOKEN, assert_problem, register
from tests.clock import ManualClock

PASSWORD = "correct horse battery"


def grant(username: str, password: str, **more: str) -> dict[str, str]:
    return {"grant_type": "password", "username": username, "password": password, **more}


async def test_a_good_login_answers_a_bearer_token_that_is_never_cached(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    ada = await register(client, "Ada", "ada@example.com", password=PASSWORD)

    response = await anonymous.post(TOKEN, data=grant("ADA@EXAMPLE.COM", PASSWORD, scope="", client_id="x"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 900)
    assert response.headers["cache-control"] == "no-store"
    claims = jwt.decode(
        body["access_token"], TESTING["token_secret"], algorithms=["HS256"], issuer="users-api"
    )
    assert (claims["sub"], claims["role"], claims["exp"] - claims["iat"]) == (ada["id"], "member", 900)


async def test_wrong_password_unknown_user_and_no_password_are_one_answer(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    await register(client, "ada", password=PASSWORD)
    await register(client, "nopass")
    answers = [
        await anonymous.post(TOKEN, data=grant(name, password))
        for name, password in [("ada", "wrong password!"), ("nobody", PASSWORD), ("nopass", PASSWORD)]
    ]
    bodies = [assert_problem(answer, 400, "invalid_grant") for answer in answers]
    assert all(body["error"] == "invalid_grant" for body in bodies)
    assert len({json_without_nothing(body) for body in bodies}) == 1
    assert all("www-authenticate" not in answer.headers for answer in answers)


@pytest.mark.parametrize("username", ["ada\x00", "\x00", "a\u0000b\ttab", "é" * 254, "🙂"])
async def test_any_username_at_all_is_told_invalid_grant(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, username: str
) -> None:
    await register(client, "ada", password=PASSWORD)
    for _ in range(6):  # past the limit: the unknown name is counted like any other
        answer = await anonymous.post(TOKEN, data=grant(username, PASSWORD))
        assert answer.status_code in (400, 429), answer.text
    assert_problem(answer, 429, "too_many_attempts")


def json_without_nothing(body: dict[str, object]) -> str:
    return repr(sorted(body.items()))


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"username": "ada", "password": PASSWORD}, "invalid_request"),
        ({"grant_type": "password", "password": PASSWORD}, "invalid_request"),
        ({"grant_type": "password", "username": "ada"}, "invalid_request"),
        ({"grant_type": "password", "username": "", "password": PASSWORD}, "invalid_request"),
        ({"grant_type": "password", "username": "a" * 255, "password": PASSWORD}, "invalid_request"),
        ({"grant_type": "password", "username": "ada", "password": "p" * 1025}, "invalid_request"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ],
)
async def test_a_request_that_is_no_password_grant_is_a_400_naming_the_oauth_error(
    anonymous: httpx.AsyncClient, data: dict[str, str], code: str
) -> None:
    problem = assert_problem(await anonymous.post(TOKEN, data=data), 400, code)
    assert problem["error"] == code
    assert PASSWORD not in str(problem)


async def test_a_token_request_that_is_not_a_form_is_a_415(anonymous: httpx.AsyncClient) -> None:
    assert_problem(await anonymous.post(TOKEN, json=grant("ada", PASSWORD)), 415, "unsupported_media_type")


async def test_five_failures_then_429_until_the_window_passes(
    container: Container, client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    clock = ManualClock(datetime.now(UTC))
    container.clock.override(providers.Object(clock))
    await register(client, "ada", password=PASSWORD)
    for _ in range(5):
        assert_problem(
            await anonymous.post(TOKEN, data=grant("ada", "wrong password!")), 400, "invalid_grant"
        )

    refused = await anonymous.post(TOKEN, data=grant("ada", PASSWORD))

    assert_problem(refused, 429, "too_many_attempts")
    assert refused.headers["retry-after"] == "900"
    clock.advance(minutes=14, seconds=59)
    assert (await anonymous.post(TOKEN, data=grant("ADA@example.com", PASSWORD))).headers[
        "retry-after"
    ] == "1"
    clock.advance(seconds=1)
    assert (await anonymous.post(TOKEN, data=grant("ada", PASSWORD))).status_code == 200


@pytest.mark.settings(password_hash_time_cost=2, password_hash_memory_kib=19_456)
async def test_an_unknown_user_and_a_wrong_password_take_the_same_time(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    # The shipped hashing cost: the comparison is what takes the time, and both kinds must do one.
    for index in range(10):
        await register(client, f"user{index}", password=PASSWORD)
    times: dict[str, list[float]] = {"wrong password": [], "unknown user": []}
    for attempt in range(50):  # interleaved, so that the machine's drift falls on both alike
        # Four failures per user and fifty unknown names: none reaches the limit of five.
        for kind, name in [("wrong password", f"user{attempt % 10}"), ("unknown user", f"nobody{attempt}")]:
            started = time.perf_counter()
            answer = await anonymous.post(TOKEN, data=grant(name, "wrong password!"))
            times[kind].append(time.perf_counter() - started)
            assert_problem(answer, 400, "invalid_grant")

    wrong, unknown = (statistics.median(times[kind]) for kind in ("wrong password", "unknown user"))
    print(f"median login time: wrong password {wrong * 1000:.1f} ms, unknown user {unknown * 1000:.1f} ms")
    assert abs(wrong - unknown) / max(wrong, unknown) < 0.2, (wrong, unknown)
    assert min(wrong, unknown) > 0.001  # a hash was compared: not an early exit for either


async def test_the_schema_declares_the_password_flow_for_swagger_ui(anonymous: httpx.AsyncClient) -> None:
    schema = (await anonymous.get("/openapi.json")).json()
    [scheme] = schema["components"]["securitySchemes"].values()
    assert scheme["flows"]["password"]["tokenUrl"] == TOKEN
    assert schema["paths"][API]["get"]["security"]
    assert "security" not in schema["paths"][TOKEN]["post"]
