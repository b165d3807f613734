"""Who may do what, at the use cases, whoever calls them (HTTP, CLI, import)."""

from uuid import UUID

import pytest

from adapters.memory import InMemoryUserRepository
from adapters.passwords import Argon2PasswordHasher
from domain.access import OPERATOR, Caller
from domain.errors import Forbidden, InvalidInput, LastAdmin, Unauthenticated, UserNotFound
from domain.model import Role, User
from domain.sources import Uuid7Ids
from domain.use_cases import (
    ChangeUser,
    GetUser,
    ImportUsers,
    ListUsers,
    RegisterUser,
    RegisterUsers,
    RemoveUser,
)
from tests.clock import ManualClock

PASSWORD = "correct horse battery"


def as_caller(user: User) -> Caller:
    return Caller(user.id, user.role)


@pytest.fixture
async def ada(register: RegisterUser) -> User:
    return await register(OPERATOR, {"username": "ada", "email": "ada@example.com", "password": PASSWORD})


@pytest.fixture
async def bob(register: RegisterUser) -> User:
    return await register(OPERATOR, {"username": "bob", "email": "bob@example.com", "password": PASSWORD})


@pytest.fixture
async def root(register: RegisterUser) -> User:
    return await register(OPERATOR, {"username": "root", "email": "root@example.com", "role": "admin"})


async def test_a_member_gets_themselves_and_no_one_else(get: GetUser, ada: User, bob: User) -> None:
    assert await get(as_caller(ada), ada.id) == ada
    with pytest.raises(UserNotFound):
        await get(as_caller(ada), bob.id)


async def test_a_member_cannot_tell_another_user_from_no_user(get: GetUser, ada: User, bob: User) -> None:
    with pytest.raises(UserNotFound) as other:
        await get(as_caller(ada), bob.id)
    with pytest.raises(UserNotFound) as nobody:
        await get(as_caller(ada), UUID(int=bob.id.int + 1))
    assert str(other.value).replace(str(bob.id), "ID") == str(nobody.value).replace(
        str(UUID(int=bob.id.int + 1)), "ID"
    )


async def test_an_admin_gets_anyone(get: GetUser, root: User, ada: User) -> None:
    assert await get(as_caller(root), ada.id) == ada


async def test_a_member_may_not_list_register_in_bulk_or_import(
    list_users: ListUsers, register_many: RegisterUsers, users: InMemoryUserRepository,
    clock: ManualClock, hasher: Argon2PasswordHasher, ada: User,
) -> None:  # fmt: skip
    with pytest.raises(Forbidden):
        await list_users(as_caller(ada), limit=10)
    with pytest.raises(Forbidden):
        await register_many(as_caller(ada), [{"username": "eve", "email": "eve@example.com"}])
    with pytest.raises(Forbidden):
        await ImportUsers(users, clock, Uuid7Ids(), hasher)(
            as_caller(ada), [(2, {"username": "eve", "email": "eve@example.com"})]
        )
    assert [user.profile.username for user in (await list_users(OPERATOR, limit=10)).items] == ["ada"]


async def test_a_member_changes_themselves_but_anyone_else_is_not_found(
    change: ChangeUser, get: GetUser, ada: User, bob: User
) -> None:
    changed = await change(as_caller(ada), ada.id, {"first_name": "Ada"})
    assert changed.profile.first_name == "Ada"
    with pytest.raises(UserNotFound):
        await change(as_caller(ada), bob.id, {"first_name": "Mallory"})
    assert await get(OPERATOR, bob.id) == bob


@pytest.mark.parametrize("role", ["admin", "member", None])
async def test_a_member_may_not_set_a_role_even_their_own(
    change: ChangeUser, get: GetUser, ada: User, role: str | None
) -> None:
    with pytest.raises(Forbidden):
        await change(as_caller(ada), ada.id, {"role": role})
    assert await get(OPERATOR, ada.id) == ada


async def test_a_member_removes_themselves_but_anyone_else_is_not_found(
    remove: RemoveUser, get: GetUser, ada: User, bob: User
) -> None:
    with pytest.raises(UserNotFound):
        await remove(as_caller(ada), bob.id)
    assert await get(OPERATOR, bob.id) == bob
    await remove(as_caller(ada), ada.id)
    with pytest.raises(UserNotFound):
        await get(OPERATOR, ada.id)


async def test_without_open_registration_no_one_but_an_admin_registers(
    register: RegisterUser, users: InMemoryUserRepository, ada: User
) -> None:
    draft = {"username": "eve", "email": "eve@example.com"}
    with pytest.raises(Unauthenticated):
        await register(None, draft)
    with pytest.raises(Forbidden):
        await register(as_caller(ada), draft)
    assert await users.find_by_login("eve") is None


async def test_open_registration_makes_members_and_refuses_a_role(
    users: InMemoryUserRepository, clock: ManualClock, hasher: Argon2PasswordHasher
) -> None:
    register = RegisterUser(users, clock, Uuid7Ids(), hasher, open_registration=True)

    eve = await register(None, {"username": "eve", "email": "eve@example.com", "password": PASSWORD})
    with pytest.raises(Forbidden):
        await register(None, {"username": "mal", "email": "mal@example.com", "role": "admin"})

    assert (eve.role, eve.has_password) == (Role.MEMBER, True)
    assert await users.find_by_login("mal") is None


async def test_an_admin_sets_roles_and_a_role_change_revokes_earlier_tokens(
    change: ChangeUser, root: User, ada: User
) -> None:
    promoted = await change(as_caller(root), ada.id, {"role": "admin"})

    assert (promoted.role, promoted.version) == (Role.ADMIN, ada.version + 1)
    assert promoted.credentials_version == ada.credentials_version + 1


async def test_a_profile_change_keeps_the_tokens(change: ChangeUser, ada: User) -> None:
    changed = await change(as_caller(ada), ada.id, {"last_name": "Lovelace"})
    assert changed.credentials_version == ada.credentials_version


async def test_setting_the_same_role_changes_nothing(change: ChangeUser, root: User, ada: User) -> None:
    assert await change(as_caller(root), ada.id, {"role": "member"}) == ada


async def test_the_last_admin_can_be_neither_demoted_nor_removed(
    change: ChangeUser, remove: RemoveUser, get: GetUser, root: User, ada: User
) -> None:
    with pytest.raises(LastAdmin):
        await change(as_caller(root), root.id, {"role": "member"})
    with pytest.raises(LastAdmin):
        await remove(as_caller(root), root.id)
    assert await get(OPERATOR, root.id) == root

    await change(as_caller(root), ada.id, {"role": "admin"})
    await remove(as_caller(root), root.id)  # ada is an admin now
    with pytest.raises(UserNotFound):
        await get(OPERATOR, root.id)


async def test_a_role_must_be_member_or_admin(register: RegisterUser, change: ChangeUser, root: User) -> None:
    with pytest.raises(InvalidInput) as raised:
        await register(OPERATOR, {"username": "eve", "email": "eve@example.com", "role": "owner"})
    assert [(error.field, error.message) for error in raised.value.errors] == [
        ("role", "must be member or admin")
    ]
    with pytest.raises(InvalidInput):
        await change(as_caller(root), root.id, {"role": None})


async def test_every_wrong_field_of_a_new_user_is_named_at_once(register: RegisterUser) -> None:
    with pytest.raises(InvalidInput) as raised:
        await register(OPERATOR, {"username": "x", "email": "nope", "password": "short", "role": "boss"})
    assert [error.field for error in raised.value.errors] == ["username", "email", "password", "role"]
