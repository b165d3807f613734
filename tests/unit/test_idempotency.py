"""Keyed writes at the use-case level, on the in-memory store: once per caller and key."""

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID, uuid4

import pytest

from adapters.memory import InMemoryUserRepository
from adapters.memory_keys import InMemoryIdempotencyKeys
from adapters.passwords import Argon2PasswordHasher
from domain.access import OPERATOR, Caller
from domain.errors import FieldError, IdempotencyInProgress, IdempotencyKeyReused, InvalidInput, UserConflict
from domain.idempotency import Once, Replays
from domain.listing import UserFilter
from domain.model import Role, User
from domain.sources import Uuid7Ids
from domain.use_cases import RegisterUser, RegisterUsers, RemoveUser
from tests.clock import ManualClock

ADA = {"username": "ada", "email": "ada@example.com", "password": "analytical engine"}
BOB = {"username": "bob", "email": "bob@example.com"}
ALICE, CAROL = Caller(uuid4(), Role.ADMIN), Caller(uuid4(), Role.ADMIN)


def told(users: Sequence[User]) -> bytes:
    return ",".join(f"{user.id}:{user.profile.username}" for user in users).encode()


def once(key: str = "key-1") -> Once:
    return Once(key, told)


@pytest.fixture
def keys() -> InMemoryIdempotencyKeys:
    return InMemoryIdempotencyKeys()


@pytest.fixture
def users(keys: InMemoryIdempotencyKeys) -> InMemoryUserRepository:
    return InMemoryUserRepository(keys)


@pytest.fixture
def replays(keys: InMemoryIdempotencyKeys, clock: ManualClock) -> Replays:
    return Replays(keys, clock, Uuid7Ids(), secret=b"a secret of the tests", lease=timedelta(seconds=30))


@pytest.fixture
def register(
    users: InMemoryUserRepository, clock: ManualClock, hasher: Argon2PasswordHasher, replays: Replays
) -> RegisterUser:
    return RegisterUser(users, clock, Uuid7Ids(), hasher, open_registration=True, replays=replays)


@pytest.fixture
def register_many(
    users: InMemoryUserRepository, clock: ManualClock, hasher: Argon2PasswordHasher, replays: Replays
) -> RegisterUsers:
    return RegisterUsers(users, clock, Uuid7Ids(), hasher, replays=replays)


async def stored(users: InMemoryUserRepository) -> int:
    return await users.count(UserFilter())


async def test_a_repeat_gets_the_first_answer_and_writes_nothing(
    register: RegisterUser, users: InMemoryUserRepository
) -> None:
    first = await register(ALICE, ADA, once())
    again = await register(ALICE, dict(ADA), once())

    assert first == again
    (user_id, name) = first.decode().split(":")
    assert name == "ada"
    assert (await users.get(UUID(user_id))) is not None
    assert await stored(users) == 1


async def test_the_same_key_with_another_body_is_reused_even_another_password(register: RegisterUser) -> None:
    await register(ALICE, ADA, once())

    with pytest.raises(IdempotencyKeyReused):
        await register(ALICE, BOB, once())
    with pytest.raises(IdempotencyKeyReused):
        await register(ALICE, {**ADA, "password": "another password!"}, once())


async def test_absent_and_null_fields_are_the_same_request(register: RegisterUser) -> None:
    first = await register(ALICE, BOB, once())

    assert await register(ALICE, {**BOB, "first_name": None, "last_name": None}, once()) == first


async def test_keys_are_each_callers_own(register: RegisterUser, users: InMemoryUserRepository) -> None:
    await register(ALICE, ADA, once())
    await register(CAROL, BOB, once())
    await register(None, {"username": "dan", "email": "dan@example.com"}, once())
    await register(OPERATOR, {"username": "eve", "email": "eve@example.com"}, once())

    assert await stored(users) == 4


async def test_a_failed_write_gives_the_key_back(
    register: RegisterUser, users: InMemoryUserRepository, clock: ManualClock
) -> None:
    taken = await register(ALICE, ADA)
    with pytest.raises(UserConflict):
        await register(ALICE, ADA, once())
    await RemoveUser(users)(ALICE, taken.id, None)

    answer = await register(ALICE, ADA, once())

    assert answer.decode().endswith(":ada")
    assert await stored(users) == 1


async def test_a_repeat_while_the_first_runs_is_in_progress(
    register: RegisterUser, users: InMemoryUserRepository
) -> None:
    first = asyncio.create_task(register(ALICE, ADA, once()))  # hashes its password meanwhile
    await asyncio.sleep(0)
    with pytest.raises(IdempotencyInProgress):
        await register(ALICE, ADA, once())

    answer = await first
    assert await register(ALICE, ADA, once()) == answer
    assert await stored(users) == 1


async def test_an_answer_is_given_again_for_24_hours_then_the_key_is_free(
    register: RegisterUser, users: InMemoryUserRepository, clock: ManualClock
) -> None:
    first = await register(ALICE, BOB, once())
    clock.advance(hours=23, minutes=59)
    assert await register(ALICE, BOB, once()) == first

    clock.advance(minutes=1)
    with pytest.raises(UserConflict):  # carried out afresh: bob is taken, by the first
        await register(ALICE, BOB, once())
    assert (await register(ALICE, ADA, once())).decode().endswith(":ada")  # not "reused"


async def test_a_bulk_repeat_gets_the_first_answer(
    register_many: RegisterUsers, users: InMemoryUserRepository
) -> None:
    first = await register_many(ALICE, [ADA, BOB], once())

    assert await register_many(ALICE, [ADA, BOB], once()) == first
    assert [part.split(":")[1] for part in first.decode().split(",")] == ["ada", "bob"]
    assert await stored(users) == 2
    with pytest.raises(IdempotencyKeyReused):
        await register_many(ALICE, [BOB, ADA], once())


async def test_a_key_of_one_user_is_reused_for_a_bulk_of_that_user(
    register: RegisterUser, register_many: RegisterUsers
) -> None:
    await register(ALICE, ADA, once())

    with pytest.raises(IdempotencyKeyReused):
        await register_many(ALICE, [ADA], once())


@pytest.mark.parametrize(
    "key",
    ["", " ", " leading", "trailing ", "x" * 256, "caf\u00e9", "tab\there", "nul\x00", "del\x7f", "\u2028"],
)
async def test_a_key_not_1_to_255_printable_ascii_is_invalid_and_nothing_is_written(
    register: RegisterUser, users: InMemoryUserRepository, key: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await register(ALICE, ADA, once(key))

    assert [error.field for error in raised.value.errors] == ["idempotency-key"]
    assert isinstance(raised.value.errors[0], FieldError)
    assert await stored(users) == 0


@pytest.mark.parametrize("key", ["a", "x" * 255, "a b", "!~", "550e8400-e29b-41d4-a716-446655440000"])
async def test_keys_of_1_to_255_printable_ascii_are_accepted(register: RegisterUser, key: str) -> None:
    assert (await register(ALICE, ADA, once(key))).decode().endswith(":ada")


async def test_the_fingerprint_holds_no_password(
    register: RegisterUser, keys: InMemoryIdempotencyKeys
) -> None:
    """Only a keyed digest is kept: neither the password nor a plain SHA-256 of the request."""
    await register(ALICE, ADA, once())

    (kept,) = keys._kept.values()
    assert ADA["password"] not in kept.fingerprint
    assert len(kept.fingerprint) == 64
