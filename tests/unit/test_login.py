"""Passwords, logins and tokens at the use cases: one answer for every wrong login, the limit on
failures, revocation, and hashes upgraded as users log in."""

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pwdlib.hashers.bcrypt import BcryptHasher

from adapters.memory import InMemoryUserRepository
from adapters.passwords import Argon2PasswordHasher, HashingOptions
from adapters.tokens import JwtTokens
from domain.access import OPERATOR, Caller
from domain.credentials import Password
from domain.errors import InvalidGrant, InvalidInput, TooManyAttempts, Unauthenticated
from domain.model import Role, User
from domain.use_cases import Authenticate, ChangeUser, IssueToken, PasswordCheck, RecentVersions, RegisterUser
from tests.clock import ManualClock

PASSWORD = "correct horse battery"
SECRET = b"s" * 32


@pytest.fixture
def tokens(clock: ManualClock) -> JwtTokens:
    return JwtTokens(SECRET, timedelta(minutes=15), lambda: datetime.now(UTC))


@pytest.fixture
def login(
    users: InMemoryUserRepository, check: PasswordCheck, hasher: Argon2PasswordHasher, tokens: JwtTokens
) -> IssueToken:
    return IssueToken(users, check, hasher, tokens)


@pytest.fixture
async def ada(register: RegisterUser) -> User:
    return await register(OPERATOR, {"username": "Ada", "email": "ada@example.com", "password": PASSWORD})


async def test_login_by_username_or_email_in_any_case_gives_a_token_for_the_user(
    login: IssueToken, tokens: JwtTokens, ada: User
) -> None:
    for name in ["ada", "ADA", " Ada ", "ADA@Example.com"]:
        claims = tokens.read((await login(name, PASSWORD)).value)
        assert (claims.user_id, claims.role, claims.credentials_version) == (ada.id, Role.MEMBER, 1)


async def test_a_wrong_password_an_unknown_user_and_a_user_without_password_get_one_answer(
    login: IssueToken, register: RegisterUser, ada: User
) -> None:
    await register(OPERATOR, {"username": "nopass", "email": "nopass@example.com"})
    answers = []
    for name, password in [("ada", "wrong password!"), ("nobody", PASSWORD), ("nopass", PASSWORD), ("", "")]:
        with pytest.raises(InvalidGrant) as raised:
            await login(name, password)
        answers.append(str(raised.value))
    assert len(set(answers)) == 1


async def test_five_failures_make_the_next_attempts_wait_out_the_window_whatever_the_password(
    login: IssueToken, clock: ManualClock, ada: User
) -> None:
    for _ in range(5):
        clock.advance(minutes=1)
        with pytest.raises(InvalidGrant):
            await login("ada", "wrong password!")
    with pytest.raises(TooManyAttempts) as raised:
        await login("ADA@example.com", PASSWORD)  # the email is the same account
    assert raised.value.retry_after == (timedelta(minutes=15) - timedelta(minutes=4)).total_seconds()

    clock.advance(minutes=11)  # 15 minutes after the first failure
    assert await login("ada", PASSWORD)


async def test_a_good_login_clears_the_failures(login: IssueToken, ada: User) -> None:
    for _ in range(4):
        with pytest.raises(InvalidGrant):
            await login("ada", "wrong password!")
    await login("ada", PASSWORD)
    for _ in range(5):
        with pytest.raises(InvalidGrant):
            await login("ada", "wrong password!")
    with pytest.raises(TooManyAttempts):
        await login("ada", PASSWORD)


async def test_many_good_logins_at_once_all_succeed(login: IssueToken, ada: User) -> None:
    assert len(await asyncio.gather(*(login("ada", PASSWORD) for _ in range(20)))) == 20


async def test_many_guesses_at_once_get_past_the_limit_no_further(
    login: IssueToken, hasher: Argon2PasswordHasher, ada: User
) -> None:
    answers = await asyncio.gather(
        *(login("ada", "wrong password!") for _ in range(19)), login("ada", PASSWORD), return_exceptions=True
    )
    told = [type(answer).__name__ for answer in answers]
    assert told.count("InvalidGrant") == 5  # the guesses whose answer says anything
    assert told.count("TooManyAttempts") == 15  # the right one among them: past the limit, refused


async def test_unknown_names_are_limited_the_same_way(login: IssueToken) -> None:
    for _ in range(5):
        with pytest.raises(InvalidGrant):
            await login("nobody", PASSWORD)
    with pytest.raises(TooManyAttempts):
        await login("NOBODY", PASSWORD)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("eleven char", "must be 12 to 128 characters"),
        ("x" * 129, "must be 12 to 128 characters"),
        ("twelve chars\n", "must not contain control characters"),
        ("nul in the \x00 middle", "must not contain control characters"),
    ],
)
def test_a_new_password_follows_the_rules(raw: str, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        Password.parse(raw)
    assert [(error.field, error.message) for error in raised.value.errors] == [("password", message)]


def test_a_password_is_normalized_and_any_printable_character_is_allowed() -> None:
    assert Password.parse(
        "\uff50\uff41\uff53\uff53\uff57\uff4f\uff52\uff44 😀 ünïcödé"
    )  # fullwidth.value == "password 😀 ünïcödé"
    assert Password.parse("x" * 128).value == "x" * 128
    assert PASSWORD not in repr(Password.parse(PASSWORD))


async def test_a_member_changes_their_password_only_with_the_current_one(
    change: ChangeUser, login: IssueToken, ada: User
) -> None:
    me = Caller(ada.id, ada.role)
    for current in [None, "wrong password!"]:
        with pytest.raises(InvalidInput) as raised:
            await change(me, ada.id, {"password": "a new long password", "current_password": current})
        assert [error.field for error in raised.value.errors] == ["current_password"]

    changed = await change(me, ada.id, {"password": "a new long password", "current_password": PASSWORD})

    assert changed.credentials_version == ada.credentials_version + 1
    assert await login("ada", "a new long password")
    with pytest.raises(InvalidGrant):
        await login("ada", PASSWORD)


async def test_wrong_current_passwords_count_as_failed_logins(change: ChangeUser, ada: User) -> None:
    me = Caller(ada.id, ada.role)
    for _ in range(5):
        with pytest.raises(InvalidInput):
            await change(me, ada.id, {"password": "a new long password", "current_password": "guess guess!"})
    with pytest.raises(TooManyAttempts):
        await change(me, ada.id, {"password": "a new long password", "current_password": PASSWORD})


async def test_an_admin_sets_a_password_without_the_current_one(
    change: ChangeUser, login: IssueToken, ada: User
) -> None:
    await change(OPERATOR, ada.id, {"password": "set by the admin"})
    assert await login("ada", "set by the admin")


async def test_current_password_alone_changes_nothing(change: ChangeUser, ada: User) -> None:
    assert await change(Caller(ada.id, ada.role), ada.id, {"current_password": "anything at all"}) == ada


async def test_a_hash_of_older_parameters_or_of_bcrypt_is_upgraded_at_login(
    login: IssueToken, users: InMemoryUserRepository, hasher: Argon2PasswordHasher, ada: User
) -> None:
    older = await Argon2PasswordHasher(HashingOptions(time_cost=2, memory_kib=8)).hash(Password(PASSWORD))
    imported = BcryptHasher(rounds=4).hash(PASSWORD)
    for stored in [older, imported]:
        current = await users.get(ada.id)
        assert current is not None
        await users.update(replace(current, password_hash=stored), previous=current)

        await login("ada", PASSWORD)

        upgraded = await users.get(ada.id)
        assert upgraded is not None
        assert upgraded.password_hash is not None
        assert upgraded.password_hash.startswith("$argon2id$v=19$m=8,t=1")
        assert (upgraded.version, upgraded.credentials_version) == (ada.version, ada.credentials_version)
        assert await login("ada", PASSWORD)


async def test_a_token_is_revoked_by_a_password_change_within_the_delay(
    change: ChangeUser, login: IssueToken, users: InMemoryUserRepository, tokens: JwtTokens,
    clock: ManualClock, ada: User,
) -> None:  # fmt: skip
    authenticate = Authenticate(tokens, users, clock, RecentVersions(timedelta(seconds=2)))
    token = (await login("ada", PASSWORD)).value
    assert await authenticate(token) == Caller(ada.id, Role.MEMBER)

    await change(OPERATOR, ada.id, {"password": "set by the admin"})
    clock.advance(seconds=1.9)
    assert await authenticate(token) == Caller(ada.id, Role.MEMBER)  # still within the delay
    clock.advance(seconds=0.1)
    with pytest.raises(Unauthenticated):
        await authenticate(token)
    assert await authenticate((await login("ada", "set by the admin")).value)


async def test_a_token_of_a_removed_user_is_refused(
    login: IssueToken, users: InMemoryUserRepository, tokens: JwtTokens, clock: ManualClock, ada: User
) -> None:
    authenticate = Authenticate(tokens, users, clock, RecentVersions(timedelta(0)))
    token = (await login("ada", PASSWORD)).value
    await users.remove(ada)
    with pytest.raises(Unauthenticated):
        await authenticate(token)
