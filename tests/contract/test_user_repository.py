"""The contract of the UserRepository port: every adapter gives these answers."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from domain.errors import Conflict, UserConflict
from domain.listing import Keyset, PageQuery, Sort, UserFilter
from domain.model import Profile, User
from domain.ports import UserRepository
from domain.sources import Uuid7Ids
from tests.contract.conftest import T0, a_user
from tests.paging import pages_needed, walk_pages
from tests.sorted_people import EXPECTED, PEOPLE

EVERYONE = UserFilter()


async def names(repository: UserRepository, **query: object) -> list[str]:
    options: dict[str, object] = {"sort": Sort.CREATED_AT, "filter": EVERYONE, "limit": 100, **query}
    return [user.profile.username for user in await repository.list(PageQuery(**options))]  # type: ignore[arg-type]


async def test_a_stored_user_reads_back_equal_to_the_microsecond(repository: UserRepository) -> None:
    user = a_user("ada", "Ädä@Example.com", first_name="Ada", last_name=None)
    await repository.add(user)

    assert await repository.get(user.id) == user
    assert (await repository.get(user.id)).created_at == T0  # type: ignore[union-attr]


async def test_get_of_an_unknown_id_is_none(repository: UserRepository) -> None:
    assert await repository.get(Uuid7Ids()()) is None


@pytest.mark.parametrize(
    ("first", "second", "fields"),
    [
        (("ada", "ada@example.com"), ("ADA", "other@example.com"), ["username"]),
        (("ada", "ada@example.com"), ("bob", "ADA@EXAMPLE.COM"), ["email"]),
        (("ada", "ada@example.com"), ("Ada", "Ada@example.com"), ["username", "email"]),
        # Python and PostgreSQL lower-case these differently; only the domain's key decides.
        (("ada", "STRASSE@example.com"), ("bob", "straße@example.com"), ["email"]),
        (("ada", "ẞig@example.com"), ("bob", "ssig@example.com"), ["email"]),
        (("ada", "İstanbul@example.com"), ("bob", "i̇stanbul@example.com"), ["email"]),
    ],
)
async def test_add_rejects_a_taken_key_naming_each_field(
    repository: UserRepository, first: tuple[str, str], second: tuple[str, str], fields: list[str]
) -> None:
    await repository.add(a_user(*first))
    with pytest.raises(UserConflict) as raised:
        await repository.add(a_user(*second))
    assert [conflict.field for conflict in raised.value.conflicts] == fields
    assert await repository.count(EVERYONE) == 1


async def test_add_many_is_all_or_nothing_and_names_every_conflict_by_index(
    repository: UserRepository,
) -> None:
    await repository.add(a_user("ada"))
    batch = [
        a_user("bob"),
        a_user("Ada", "new@example.com"),
        a_user("carol", "BOB@example.com"),
        a_user("dave"),
    ]

    with pytest.raises(UserConflict) as raised:
        await repository.add_many(batch)

    assert raised.value.conflicts == (Conflict("username", 1), Conflict("email", 2))
    assert await names(repository) == ["ada"]
    await repository.add_many([batch[0], batch[3]])
    assert await names(repository) == ["ada", "bob", "dave"]


async def batches_of(*batches: list[User], then: Exception | None = None) -> AsyncIterator[list[User]]:
    for batch in batches:
        yield batch
    if then is not None:
        raise then


async def test_add_all_stores_every_batch(repository: UserRepository) -> None:
    first, second = [a_user("ada"), a_user("bob")], [a_user("carol")]

    assert await repository.add_all(batches_of(first, second)) == 3
    assert await names(repository) == ["ada", "bob", "carol"]


async def test_add_all_writes_nothing_when_a_later_batch_conflicts_and_counts_indexes_across_batches(
    repository: UserRepository,
) -> None:
    await repository.add(a_user("ada"))
    first = [a_user("bob"), a_user("carol")]
    second = [a_user("dave"), a_user("BOB", "b2@example.com"), a_user("erin", "ADA@example.com")]

    with pytest.raises(UserConflict) as raised:
        await repository.add_all(batches_of(first, second))

    assert raised.value.conflicts == (Conflict("username", 3), Conflict("email", 4))
    assert await names(repository) == ["ada"]


async def test_add_all_writes_nothing_when_its_batches_fail(repository: UserRepository) -> None:
    with pytest.raises(LookupError):
        await repository.add_all(batches_of([a_user("ada")], [a_user("bob")], then=LookupError("bad row")))

    assert await names(repository) == []


async def test_concurrent_adds_of_one_email_store_exactly_one(repository: UserRepository) -> None:
    attempts = [a_user(f"user{i}", "SAME@example.com" if i % 2 else "same@EXAMPLE.com") for i in range(20)]
    results = await asyncio.gather(*(repository.add(user) for user in attempts), return_exceptions=True)

    assert sum(result is None for result in results) == 1
    assert all(isinstance(result, UserConflict) for result in results if result is not None)
    assert await repository.count(EVERYONE) == 1


def usernames(users: list[User]) -> list[str]:
    return [user.profile.username for user in users]


async def keyset_walk(
    repository: UserRepository, sort: Sort, limit: int, found: UserFilter = EVERYONE
) -> list[str]:
    """Every page after the last row of the one before, as ListUsers pages; bounded, never hangs."""

    async def page(after: Keyset | None) -> tuple[list[User], Keyset | None]:
        rows = await repository.list(PageQuery(sort, found, limit=limit, after=after))
        return rows, Keyset.of(rows[-1], sort) if len(rows) == limit else None

    # A full last page costs one more, empty, page.
    return usernames(await walk_pages(page, max_pages=pages_needed(len(PEOPLE) + 1, limit)))


# Everyone, and a search that every one of them matches: a store may page a search another way.
EVERYONE_FOUND = {"everyone": EVERYONE, "searched": UserFilter.parse(q="example.com")}


@pytest.mark.parametrize("found", EVERYONE_FOUND.values(), ids=EVERYONE_FOUND.keys())
@pytest.mark.parametrize("sort", list(Sort))
async def test_every_sort_gives_the_order_worked_out_by_hand_with_the_id_breaking_ties(
    repository: UserRepository, sort: Sort, found: UserFilter
) -> None:
    # tests/sorted_people.py: stored in an order that follows neither time nor id.
    stored = {
        p.username: User(p.id, Profile.parse(p.draft), created_at=p.created_at, updated_at=p.created_at)
        for p in PEOPLE
    }
    await repository.add_many(list(stored.values()))
    expected = EXPECTED[sort.value]

    assert await repository.list(PageQuery(sort, found, limit=100)) == [stored[name] for name in expected]
    for limit in [1, 3, 4]:  # at 3 and 4, pages end inside a group of people created at one time
        assert await keyset_walk(repository, sort, limit, found) == expected, limit
    for offset, limit in [(0, 4), (4, 3), (5, 10), (9, 1), (10, 2), (50, 2)]:
        page = await repository.list(PageQuery(sort, found, limit=limit, offset=offset))
        assert usernames(page) == expected[offset : offset + limit], (offset, limit)
    last = (await repository.list(PageQuery(sort, found, limit=1, offset=len(PEOPLE) - 1)))[0]
    assert await repository.list(PageQuery(sort, found, limit=3, after=Keyset.of(last, sort))) == []


@pytest.mark.parametrize("sort", list(Sort))
async def test_a_keyset_page_is_stable_while_rows_are_inserted_before_and_after_it(
    repository: UserRepository, sort: Sort
) -> None:
    await repository.add_many([a_user(f"user{i:02}", seconds=i) for i in range(10)])
    first = await repository.list(PageQuery(sort, EVERYONE, limit=5))
    # "aaa" comes first and "zzz" last in every ascending sort, by time, name and email alike.
    early, late = a_user("aaa", seconds=-1), a_user("zzz", seconds=99)
    rest, _ = await asyncio.gather(
        repository.list(PageQuery(sort, EVERYONE, limit=10, after=Keyset.of(first[-1], sort))),
        repository.add_many([early, late]),
    )
    rest_after = await repository.list(PageQuery(sort, EVERYONE, limit=10, after=Keyset.of(first[-1], sort)))

    old = [f"user{i:02}" for i in range(10)][:: -1 if sort.descending else 1]
    new_past_the_cursor = "aaa" if sort.descending else "zzz"
    assert [user.profile.username for user in first] == old[:5]
    # Read alongside the inserts: the old rows past the cursor, and the new one only if it was in time.
    assert [user.profile.username for user in rest] in (old[5:], [*old[5:], new_past_the_cursor])
    assert [user.profile.username for user in rest_after] == [*old[5:], new_past_the_cursor]


async def test_filters_and_search_use_the_canonical_keys(repository: UserRepository) -> None:
    await repository.add_many(
        [
            a_user("ada", "Ada@Example.com", first_name="Ada", last_name="Lovelace"),
            a_user("grace", "grace@navy.mil", first_name="Grace", last_name="Hopper", seconds=1),
            a_user("pct", "p@example.com", last_name="100%_off\\", seconds=2),
            a_user("plain", "q@example.com", last_name="1000 offers", seconds=3),
        ]
    )

    async def matching(**filters: str) -> list[str]:
        return await names(repository, filter=UserFilter.parse(**filters))

    assert await matching(email="ADA@example.COM") == ["ada"]
    assert await matching(username="GRACE") == ["grace"]
    assert await matching(q="LOVE") == ["ada"]
    assert await matching(q="HOP") == ["grace"]
    assert await matching(q="navy.") == ["grace"]
    assert await matching(q="%") == ["pct"]
    assert await matching(q="0%_") == ["pct"]
    assert await matching(q="_") == ["pct"]
    assert await matching(q="\\") == ["pct"]
    assert await matching(q="example", username="ada") == ["ada"]
    assert await repository.count(UserFilter.parse(q="example")) == 3


async def test_update_replaces_only_the_version_it_read(repository: UserRepository) -> None:
    user = a_user("ada")
    await repository.add(user)
    changed = replace(user, profile=replace(user.profile, first_name="Ada"), version=2)

    assert await repository.update(changed, previous=replace(user, version=2)) is False
    assert await repository.get(user.id) == user
    assert await repository.update(changed, previous=user) is True
    assert await repository.get(user.id) == changed
    assert await repository.update(replace(changed, version=3), previous=user) is False


async def test_update_of_a_removed_user_is_false(repository: UserRepository) -> None:
    user = a_user("ada")
    await repository.add(user)
    await repository.remove(user)
    assert await repository.update(replace(user, version=2), previous=user) is False


async def test_update_to_a_taken_key_conflicts_and_frees_nothing(repository: UserRepository) -> None:
    ada, bob = a_user("ada"), a_user("bob")
    await repository.add_many([ada, bob])
    renamed = replace(bob, profile=replace(bob.profile, username="ADA"), version=2)

    with pytest.raises(UserConflict) as raised:
        await repository.update(renamed, previous=bob)

    assert [c.field for c in raised.value.conflicts] == ["username"]
    assert await repository.get(bob.id) == bob
    with pytest.raises(UserConflict):
        await repository.add(a_user("Bob", "b2@example.com"))


async def test_update_frees_the_old_keys_for_others(repository: UserRepository) -> None:
    ada = a_user("ada")
    await repository.add(ada)
    await repository.update(
        replace(ada, profile=replace(ada.profile, username="augusta"), version=2), previous=ada
    )
    await repository.add(a_user("ADA", "other@example.com"))
    assert await names(repository, sort=Sort.USERNAME) == ["ADA", "augusta"]


async def test_remove_honours_the_version_it_read_and_frees_the_keys(repository: UserRepository) -> None:
    ada = a_user("ada")
    await repository.add(ada)

    assert await repository.remove(replace(ada, version=2)) is False
    assert await repository.get(ada.id) == ada
    assert await repository.remove(ada) is True
    assert await repository.remove(ada) is False
    await repository.add(a_user("ADA", "ADA@example.com"))


async def test_a_user_read_back_carries_the_keys_the_domain_derives(repository: UserRepository) -> None:
    user = a_user("Ada_Ninth", "ÉMILE.Straße@Example.com", first_name="Zoë", last_name="Ⅸ")
    await repository.add(user)

    read = await repository.get(user.id)
    pages = await repository.list(PageQuery(Sort.USERNAME, EVERYONE, 10))

    derived = Profile.parse(user.profile.fields())
    for profile in [read.profile if read else None, pages[0].profile]:
        assert profile is not None
        keys = (profile.username_key, profile.email_key, profile.search_text)
        assert keys == (derived.username_key, derived.email_key, derived.search_text)
