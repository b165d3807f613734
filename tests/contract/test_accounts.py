"""The contract of accounts in storage: roles, password hashes, credentials versions, the last admin,
and login attempts. Every adapter gives these answers."""

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from domain.errors import LastAdmin, UserConflict
from domain.model import Role
from domain.ports import LoginAttempts, UserRepository
from tests.contract.conftest import T0, a_user

HASH = "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
WINDOW = timedelta(minutes=15)


async def test_role_hash_and_credentials_version_read_back_as_stored(repository: UserRepository) -> None:
    admin = replace(a_user("root", role=Role.ADMIN, password_hash=HASH), credentials_version=7)
    member = a_user("ada")
    await repository.add_many([admin, member])

    assert await repository.get(admin.id) == admin
    assert await repository.get(member.id) == member
    assert (await repository.get(member.id)).password_hash is None  # type: ignore[union-attr]


@pytest.mark.parametrize("key", ["ada", "ada@example.com"])
async def test_find_by_login_matches_the_username_key_or_the_email_key(
    repository: UserRepository, key: str
) -> None:
    ada = a_user("Ada", "Ada@Example.com")
    await repository.add(ada)
    await repository.add(a_user("bob"))

    assert await repository.find_by_login(key) == ada


@pytest.mark.parametrize("key", ["Ada", "ad", "ada@example", "bob@example.com"])
async def test_find_by_login_compares_whole_canonical_keys_only(repository: UserRepository, key: str) -> None:
    await repository.add(a_user("Ada", "Ada@Example.com"))
    assert await repository.find_by_login(key) is None


async def test_has_admin_tells_whether_any_admin_is_stored(repository: UserRepository) -> None:
    assert not await repository.has_admin()
    await repository.add(a_user("ada"))
    assert not await repository.has_admin()
    root = a_user("root", role=Role.ADMIN)
    await repository.add(root)
    assert await repository.has_admin()
    await repository.add(a_user("admin2", role=Role.ADMIN))
    assert await repository.remove(root)
    assert await repository.has_admin()


async def test_update_stores_a_new_role_and_hash(repository: UserRepository) -> None:
    ada = a_user("ada")
    await repository.add(ada)
    changed = ada.changed(T0, role=Role.ADMIN, password_hash=HASH)

    assert await repository.update(changed, previous=ada)

    assert await repository.get(ada.id) == changed
    assert await repository.has_admin()


async def test_update_from_a_stale_previous_version_changes_nothing(repository: UserRepository) -> None:
    ada = a_user("ada")
    await repository.add(ada)
    first = ada.changed(T0, role=Role.ADMIN)
    assert await repository.update(first, previous=ada)

    assert not await repository.update(ada.changed(T0, password_hash=HASH), previous=ada)
    assert await repository.get(ada.id) == first


async def test_the_only_admin_is_neither_demoted_nor_removed(repository: UserRepository) -> None:
    root, ada = a_user("root", role=Role.ADMIN), a_user("ada")
    await repository.add_many([root, ada])

    with pytest.raises(LastAdmin):
        await repository.update(root.changed(T0, role=Role.MEMBER), previous=root)
    with pytest.raises(LastAdmin):
        await repository.remove(root)

    assert await repository.get(root.id) == root
    assert await repository.remove(ada)  # members go freely


async def test_an_admin_goes_when_another_stays(repository: UserRepository) -> None:
    root, other = a_user("root", role=Role.ADMIN), a_user("other", role=Role.ADMIN)
    await repository.add_many([root, other])

    demoted = root.changed(T0, role=Role.MEMBER)
    assert await repository.update(demoted, previous=root)
    with pytest.raises(LastAdmin):
        await repository.remove(other)
    assert await repository.get(other.id) == other


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(repository: UserRepository) -> None:
    one, two = a_user("one", role=Role.ADMIN), a_user("two", role=Role.ADMIN)
    await repository.add_many([one, two])

    results = await asyncio.gather(
        repository.update(one.changed(T0, role=Role.MEMBER), previous=one),
        repository.update(two.changed(T0, role=Role.MEMBER), previous=two),
        return_exceptions=True,
    )

    assert sorted(type(result).__name__ for result in results) == ["LastAdmin", "bool"]
    roles = sorted(user.role for user in [await repository.get(one.id), await repository.get(two.id)] if user)
    assert roles == [Role.ADMIN, Role.MEMBER]


async def test_two_admins_removing_each_other_at_once_leave_one_admin(repository: UserRepository) -> None:
    one, two = a_user("one", role=Role.ADMIN), a_user("two", role=Role.ADMIN)
    await repository.add_many([one, two])

    results = await asyncio.gather(repository.remove(one), repository.remove(two), return_exceptions=True)

    assert sorted(type(result).__name__ for result in results) == ["LastAdmin", "bool"]
    assert await repository.has_admin()


async def test_a_demotion_that_collides_on_a_key_is_a_conflict_and_changes_nothing(
    repository: UserRepository,
) -> None:
    root, other, bob = a_user("root", role=Role.ADMIN), a_user("other", role=Role.ADMIN), a_user("bob")
    await repository.add_many([root, other, bob])
    clash = replace(root.changed(T0, role=Role.MEMBER), profile=bob.profile)

    with pytest.raises(UserConflict):
        await repository.update(clash, previous=root)
    assert await repository.get(root.id) == root


async def test_failures_are_counted_from_the_first_of_the_window(login_attempts: LoginAttempts) -> None:
    assert await login_attempts.failures("ada", T0, WINDOW) == (0, T0)
    counted = [await login_attempts.fail("ada", T0 + timedelta(minutes=n), WINDOW) for n in range(3)]
    assert counted == [(1, T0), (2, T0), (3, T0)]
    assert await login_attempts.failures("ada", T0 + timedelta(minutes=14), WINDOW) == (3, T0)


async def test_a_window_over_counts_nothing_and_the_next_failure_starts_another(
    login_attempts: LoginAttempts,
) -> None:
    await login_attempts.fail("ada", T0, WINDOW)
    await login_attempts.fail("ada", T0 + timedelta(minutes=1), WINDOW)
    later = T0 + WINDOW
    assert await login_attempts.failures("ada", later, WINDOW) == (0, later)
    assert await login_attempts.fail("ada", later, WINDOW) == (1, later)


async def test_accounts_are_counted_apart_and_cleared_apart(login_attempts: LoginAttempts) -> None:
    await login_attempts.fail("ada", T0, WINDOW)
    await login_attempts.fail("ada", T0, WINDOW)
    await login_attempts.fail("login:bob", T0, WINDOW)
    await login_attempts.clear("ada")
    await login_attempts.clear("nobody")

    assert await login_attempts.failures("ada", T0, WINDOW) == (0, T0)
    assert await login_attempts.failures("login:bob", T0, WINDOW) == (1, T0)


async def test_failures_at_once_are_each_counted(login_attempts: LoginAttempts) -> None:
    counts = await asyncio.gather(*(login_attempts.fail("ada", T0, WINDOW) for _ in range(20)))
    assert sorted(count for count, _ in counts) == list(range(1, 21))
