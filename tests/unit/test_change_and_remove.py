import asyncio
from uuid import UUID

import pytest

from adapters.memory import InMemoryLoginAttempts, InMemoryUserRepository
from adapters.passwords import Argon2PasswordHasher
from domain.access import OPERATOR
from domain.errors import InvalidInput, UserConflict, UserNotFound, VersionMismatch
from domain.model import User
from domain.sources import Uuid7Ids
from domain.use_cases import ChangeUser, GetUser, PasswordCheck, RegisterUser, RemoveUser
from tests.clock import ManualClock


@pytest.fixture
async def ada(register: RegisterUser) -> User:
    return await register(OPERATOR, {"username": "ada", "email": "ada@example.com", "first_name": "Ada"})


async def test_change_applies_present_fields_bumps_the_version_and_the_update_time(
    change: ChangeUser, get: GetUser, ada: User, clock: ManualClock
) -> None:
    later = clock.advance(seconds=5)

    changed = await change(OPERATOR, ada.id, {"last_name": " Lovelace ", "email": "ADA@example.com"})

    assert await get(OPERATOR, ada.id) == changed
    assert changed.profile.fields() == {
        "username": "ada",
        "email": "ADA@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
    }
    assert (changed.version, changed.created_at, changed.updated_at) == (2, ada.created_at, later)


async def test_change_with_null_clears_a_name(change: ChangeUser, ada: User) -> None:
    assert (await change(OPERATOR, ada.id, {"first_name": None})).profile.first_name is None


@pytest.mark.parametrize("field", ["username", "email"])
async def test_change_rejects_null_for_username_and_email(
    change: ChangeUser, get: GetUser, ada: User, field: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        await change(OPERATOR, ada.id, {field: None})
    assert [error.field for error in raised.value.errors] == [field]
    assert await get(OPERATOR, ada.id) == ada


async def test_a_change_that_changes_nothing_keeps_the_version(
    change: ChangeUser, ada: User, clock: ManualClock
) -> None:
    clock.advance(seconds=1)
    assert await change(OPERATOR, ada.id, {"first_name": "  Ada", "username": "ada"}) == ada


async def test_change_rejects_a_username_taken_by_another_user_ignoring_case(
    change: ChangeUser, register: RegisterUser, get: GetUser, ada: User
) -> None:
    bob = await register(OPERATOR, {"username": "bob", "email": "bob@example.com"})
    with pytest.raises(UserConflict):
        await change(OPERATOR, bob.id, {"username": "ADA"})
    assert await get(OPERATOR, bob.id) == bob


async def test_a_user_may_change_the_case_of_its_own_username(change: ChangeUser, ada: User) -> None:
    assert (await change(OPERATOR, ada.id, {"username": "Ada"})).profile.username == "Ada"


async def test_change_with_a_stale_version_fails_and_changes_nothing(
    change: ChangeUser, get: GetUser, ada: User
) -> None:
    await change(OPERATOR, ada.id, {"first_name": "Augusta"})
    with pytest.raises(VersionMismatch):
        await change(OPERATOR, ada.id, {"first_name": "Countess"}, expected_versions={1})
    assert (await get(OPERATOR, ada.id)).profile.first_name == "Augusta"


async def test_change_of_a_missing_user_is_not_found(change: ChangeUser) -> None:
    with pytest.raises(UserNotFound):
        await change(OPERATOR, Uuid7Ids()(), {"first_name": "X"})


async def test_two_concurrent_changes_with_the_same_version_give_one_success_and_one_mismatch(
    clock: ManualClock, hasher: Argon2PasswordHasher
) -> None:
    users = _Interleaving()
    ada = await RegisterUser(users, clock, Uuid7Ids(), hasher)(
        OPERATOR, {"username": "ada", "email": "ada@example.com"}
    )
    change = ChangeUser(users, clock, hasher, PasswordCheck(hasher, InMemoryLoginAttempts(), clock))

    results = await asyncio.gather(
        change(OPERATOR, ada.id, {"first_name": "One"}, expected_versions={1}),
        change(OPERATOR, ada.id, {"first_name": "Two"}, expected_versions={1}),
        return_exceptions=True,
    )

    assert sorted(type(result).__name__ for result in results) == ["User", "VersionMismatch"]
    stored = await users.get(ada.id)
    assert stored is not None
    assert stored.version == 2


async def test_concurrent_changes_without_a_version_are_both_applied(
    clock: ManualClock, hasher: Argon2PasswordHasher
) -> None:
    users = _Interleaving()
    ada = await RegisterUser(users, clock, Uuid7Ids(), hasher)(
        OPERATOR, {"username": "ada", "email": "ada@example.com"}
    )
    change = ChangeUser(users, clock, hasher, PasswordCheck(hasher, InMemoryLoginAttempts(), clock))

    await asyncio.gather(
        change(OPERATOR, ada.id, {"first_name": "One"}), change(OPERATOR, ada.id, {"last_name": "Two"})
    )

    stored = await users.get(ada.id)
    assert stored is not None
    assert (stored.profile.first_name, stored.profile.last_name, stored.version) == ("One", "Two", 3)


async def test_remove_deletes_the_user_and_frees_its_username_and_email(
    remove: RemoveUser, register: RegisterUser, get: GetUser, ada: User
) -> None:
    await remove(OPERATOR, ada.id)

    with pytest.raises(UserNotFound):
        await get(OPERATOR, ada.id)
    assert (
        await register(OPERATOR, {"username": "ADA", "email": "ada@example.com"})
    ).profile.username == "ADA"


async def test_remove_of_a_missing_user_is_not_found(remove: RemoveUser) -> None:
    with pytest.raises(UserNotFound):
        await remove(OPERATOR, Uuid7Ids()())


async def test_remove_with_a_stale_version_fails_and_keeps_the_user(
    remove: RemoveUser, change: ChangeUser, get: GetUser, ada: User
) -> None:
    await change(OPERATOR, ada.id, {"first_name": "Augusta"})
    with pytest.raises(VersionMismatch):
        await remove(OPERATOR, ada.id, expected_versions={1})
    assert (await get(OPERATOR, ada.id)).version == 2
    await remove(OPERATOR, ada.id, expected_versions={2})
    with pytest.raises(UserNotFound):
        await get(OPERATOR, ada.id)


class _Interleaving(InMemoryUserRepository):
    """Yields to the loop after every read, so two use cases read before either writes."""

    async def get(self, user_id: UUID) -> User | None:
        user = await super().get(user_id)
        await asyncio.sleep(0)
        return user
