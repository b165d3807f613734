from datetime import UTC, datetime
from uuid import uuid4

import pytest

from adapters.memory import InMemoryUserRepository
from adapters.passwords import Argon2PasswordHasher
from domain.access import OPERATOR
from domain.errors import CursorWithOffset, InvalidCursor
from domain.listing import Keyset, Sort, UserFilter, encode_cursor
from domain.model import Profile, User
from domain.use_cases import ListUsers, RegisterUser
from tests.clock import ManualClock
from tests.paging import pages_needed, walk_pages
from tests.sorted_people import EXPECTED, PEOPLE, ScriptedIds

NAMES = ["mallory", "Bob", "alice", "Eve", "dave", "carol", "Trent", "peggy", "victor", "Oscar", "walter"]
MAX_PAGES = 30  # more than any store here needs, even one user a page


@pytest.fixture
async def people(register: RegisterUser, clock: ManualClock) -> list[User]:
    created = []
    for index, name in enumerate(NAMES):
        clock.advance(seconds=1 if index % 3 else 0)  # some share a creation time: the id breaks the tie
        created.append(await register(OPERATOR, {"username": name, "email": f"{name.upper()}@example.com"}))
    return created


@pytest.fixture
async def sorted_people(
    users: InMemoryUserRepository, clock: ManualClock, hasher: Argon2PasswordHasher
) -> None:
    """tests/sorted_people.py: each registered at its own time, with its own id."""
    register = RegisterUser(users, clock, ScriptedIds(), hasher)
    for person in PEOPLE:
        clock.now = person.created_at
        await register(OPERATOR, person.draft)


async def walk(
    list_users: ListUsers,
    limit: int,
    max_pages: int = MAX_PAGES,
    start: str | None = None,
    **options: object,
) -> list[str]:
    """Usernames from the page at `start` (the first page by default) through the last."""

    async def page(cursor: str | None) -> tuple[list[str], str | None]:
        result = await list_users(OPERATOR, limit=limit, cursor=cursor, **options)  # type: ignore[arg-type]
        return [user.profile.username for user in result.items], result.next_cursor

    return await walk_pages(page, max_pages=max_pages, start=start)


@pytest.mark.parametrize("limit", [1, 3, 10])
@pytest.mark.parametrize("sort", list(Sort))
async def test_cursor_pages_visit_every_user_once_in_the_order_worked_out_by_hand(
    list_users: ListUsers, sorted_people: None, sort: Sort, limit: int
) -> None:
    seen = await walk(list_users, limit, max_pages=pages_needed(len(PEOPLE), limit), sort=sort)
    assert seen == EXPECTED[sort.value]


@pytest.mark.parametrize("sort", list(Sort))
async def test_offset_pages_keep_the_order_worked_out_by_hand(
    list_users: ListUsers, sorted_people: None, sort: Sort
) -> None:
    for offset, limit in [(0, 4), (4, 3), (7, 5), (9, 1), (10, 2)]:
        page = await list_users(OPERATOR, limit=limit, offset=offset, sort=sort)
        expected = EXPECTED[sort.value][offset : offset + limit]
        assert [user.profile.username for user in page.items] == expected, (offset, limit)


async def test_sorting_by_username_ignores_case() -> None:
    assert sorted(["Bob", "alice", "carol"], key=lambda name: Sort.USERNAME.key(_user(name))) == [
        "alice",
        "Bob",
        "carol",
    ]


# What a walk sees when "aaron", "zed" and "Nina" are registered after its first page of four:
# the users that sort past the cursor, each once.
AFTER_INSERTS = {
    Sort.CREATED_AT: [*NAMES, "aaron", "zed", "Nina"],  # all three come last in time
    Sort.USERNAME: [  # "aaron" sorts before the cursor (dave)
        "alice", "Bob", "carol", "dave", "Eve", "mallory", "Nina", "Oscar", "peggy", "Trent", "victor",
        "walter", "zed",
    ],
    Sort.EMAIL_DESC: [  # "zed" sorts before the cursor (peggy)
        "walter", "victor", "Trent", "peggy", "Oscar", "Nina", "mallory", "Eve", "dave", "carol", "Bob",
        "alice", "aaron",
    ],
}  # fmt: skip


@pytest.mark.parametrize("sort", list(AFTER_INSERTS))
async def test_inserts_between_pages_neither_skip_nor_repeat_existing_users(
    list_users: ListUsers, register: RegisterUser, clock: ManualClock, people: list[User], sort: Sort
) -> None:
    first = await list_users(OPERATOR, limit=4, sort=sort)
    for name in ["aaron", "zed", "Nina"]:
        clock.advance(seconds=1)
        await register(OPERATOR, {"username": name, "email": f"{name}@example.com"})
    assert first.next_cursor is not None
    rest = await walk(list_users, 4, pages_needed(len(NAMES) + 3, 4), start=first.next_cursor, sort=sort)

    assert [user.profile.username for user in first.items] + rest == AFTER_INSERTS[sort]


async def test_the_last_page_has_no_next_cursor_even_when_it_is_full(
    list_users: ListUsers, people: list[User]
) -> None:
    page = await list_users(OPERATOR, limit=len(NAMES))
    assert (len(page.items), page.next_cursor) == (len(NAMES), None)


async def test_total_counts_every_matching_user_only_when_asked(
    list_users: ListUsers, people: list[User]
) -> None:
    assert (await list_users(OPERATOR, limit=2)).total is None
    assert (await list_users(OPERATOR, limit=2, include_total=True)).total == len(NAMES)
    assert (
        await list_users(OPERATOR, limit=2, include_total=True, filter=UserFilter.parse(q="AL"))
    ).total == 3


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (UserFilter.parse(email="bob@EXAMPLE.com"), ["Bob"]),
        (UserFilter.parse(username="TRENT"), ["Trent"]),
        (UserFilter.parse(username="tren"), []),
        (UserFilter.parse(q="AL"), ["alice", "mallory", "walter"]),
        (UserFilter.parse(q="@EXAMPLE.COM", username="eve"), ["Eve"]),
    ],
)
async def test_filters_match_without_regard_to_case(
    list_users: ListUsers, people: list[User], filter: UserFilter, expected: list[str]
) -> None:
    assert await walk(list_users, 2, sort=Sort.USERNAME, filter=filter) == expected


async def test_search_treats_percent_underscore_and_backslash_as_plain_characters(
    list_users: ListUsers, register: RegisterUser
) -> None:
    await register(OPERATOR, {"username": "under_score", "email": "u@example.com", "last_name": "100% \\o/"})
    await register(OPERATOR, {"username": "underscore", "email": "v@example.com", "last_name": "100 pct"})

    for q, expected in [
        ("r_s", ["under_score"]),
        ("0%", ["under_score"]),
        ("\\o", ["under_score"]),
        ("_", ["under_score"]),
    ]:
        assert await walk(list_users, 5, filter=UserFilter.parse(q=q)) == expected


async def test_a_cursor_is_refused_with_another_sort_or_other_filters(
    list_users: ListUsers, people: list[User]
) -> None:
    cursor = (await list_users(OPERATOR, limit=2, sort=Sort.USERNAME)).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        await list_users(OPERATOR, limit=2, sort=Sort.EMAIL, cursor=cursor)
    with pytest.raises(InvalidCursor):
        await list_users(OPERATOR, limit=2, sort=Sort.USERNAME, cursor=cursor, filter=UserFilter.parse(q="a"))


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm90IGpzb24",  # not json
        "WzEsMiwzXQ",  # [1,2,3]
        "e30",  # {}
        "é",
        encode_cursor(Keyset("x", uuid4()), Sort.EMAIL, UserFilter()),  # made for another sort
        encode_cursor(Keyset(datetime(2026, 1, 1), uuid4()), Sort.CREATED_AT, UserFilter()),  # naive time
    ],
)
async def test_a_malformed_cursor_is_refused(list_users: ListUsers, cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        await list_users(OPERATOR, limit=2, sort=Sort.CREATED_AT, cursor=cursor)


async def test_a_cursor_with_an_offset_is_refused_even_offset_zero(
    list_users: ListUsers, people: list[User]
) -> None:
    cursor = (await list_users(OPERATOR, limit=2)).next_cursor
    with pytest.raises(CursorWithOffset):
        await list_users(OPERATOR, limit=2, cursor=cursor, offset=0)


def _user(name: str) -> User:
    now = datetime.now(UTC)
    return User(uuid4(), Profile(name, f"{name}@x.com"), now, now)
