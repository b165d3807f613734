import pytest

from adapters.memory import InMemoryUserRepository
from domain.access import OPERATOR
from domain.errors import Conflict, FieldError, InvalidInput, UserConflict
from domain.listing import UserFilter
from domain.use_cases import RegisterUser, RegisterUsers
from tests.clock import ManualClock

EVERYONE = UserFilter()
ADA = {"username": "ada", "email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}


async def test_register_stores_the_user_at_version_1_with_a_uuid7_and_the_clock_time(
    register: RegisterUser, users: InMemoryUserRepository, clock: ManualClock
) -> None:
    user = await register(OPERATOR, ADA)

    assert await users.get(user.id) == user
    assert user.profile.fields() == ADA
    assert (user.version, user.id.version) == (1, 7)
    assert user.created_at == user.updated_at == clock.now


@pytest.mark.parametrize(
    ("other", "fields"),
    [
        ({"username": "ADA", "email": "other@example.com"}, ["username"]),
        ({"username": "other", "email": "Ada@Example.COM"}, ["email"]),
        ({"username": "Ada", "email": "ADA@example.com"}, ["username", "email"]),
    ],
)
async def test_register_rejects_a_taken_username_or_email_ignoring_case(
    register: RegisterUser, users: InMemoryUserRepository, other: dict[str, str], fields: list[str]
) -> None:
    await register(OPERATOR, ADA)

    with pytest.raises(UserConflict) as raised:
        await register(OPERATOR, other)

    assert [conflict.field for conflict in raised.value.conflicts] == fields
    assert await users.count(EVERYONE) == 1


async def test_register_rejects_invalid_fields_and_stores_nothing(
    register: RegisterUser, users: InMemoryUserRepository
) -> None:
    with pytest.raises(InvalidInput):
        await register(OPERATOR, {"username": "a", "email": "nope"})
    assert await users.count(EVERYONE) == 0


async def test_register_many_keeps_the_input_order_in_ids_and_stores_all(
    register_many: RegisterUsers, users: InMemoryUserRepository
) -> None:
    drafts = [{"username": f"user{i}", "email": f"user{i}@example.com"} for i in range(50)]

    created = await register_many(OPERATOR, drafts)

    assert [user.profile.username for user in created] == [draft["username"] for draft in drafts]
    assert [user.id for user in created] == sorted(user.id for user in created)
    assert await users.count(EVERYONE) == 50


async def test_register_many_writes_nothing_when_one_item_is_invalid_and_names_it_by_index(
    register_many: RegisterUsers, users: InMemoryUserRepository
) -> None:
    drafts = [{"username": "good", "email": "good@example.com"}, {"username": "ok", "email": "bad"}]

    with pytest.raises(InvalidInput) as raised:
        await register_many(OPERATOR, drafts)

    assert [(e.field, e.index) for e in raised.value.errors] == [("username", 1), ("email", 1)]
    assert isinstance(raised.value.errors[0], FieldError)
    assert await users.count(EVERYONE) == 0


async def test_register_many_rejects_duplicates_inside_the_batch_and_against_stored_users(
    register: RegisterUser, register_many: RegisterUsers, users: InMemoryUserRepository
) -> None:
    await register(OPERATOR, ADA)
    drafts = [
        {"username": "bob", "email": "bob@example.com"},
        {"username": "ADA", "email": "new@example.com"},
        {"username": "carol", "email": "BOB@example.com"},
    ]

    with pytest.raises(UserConflict) as raised:
        await register_many(OPERATOR, drafts)

    assert raised.value.conflicts == (Conflict("username", 1), Conflict("email", 2))
    assert await users.count(EVERYONE) == 1
