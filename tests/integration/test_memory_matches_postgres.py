"""Property tests: the in-memory adapter, SQLite and PostgreSQL give the same answers to the same
random sequence of operations, and any string a field may hold comes back from each byte for byte."""

import asyncio
from collections.abc import Awaitable, Iterator
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from adapters.memory import InMemoryLoginAttempts, InMemoryUserRepository
from adapters.passwords import Argon2PasswordHasher, HashingOptions
from adapters.postgres import PoolOptions, PostgresUserRepository, new_pool
from adapters.sqlite import SqliteStore, SqliteUserRepository, StoreOptions
from domain.access import OPERATOR
from domain.errors import DomainError
from domain.listing import Sort, UserFilter
from domain.model import NAME_MAX, User
from domain.ports import UserRepository
from domain.use_cases import (
    ChangeUser,
    GetUser,
    ListUsers,
    PasswordCheck,
    RegisterUser,
    RegisterUsers,
    RemoveUser,
)
from tests.clock import ManualClock
from tests.postgres import empty
from tests.sqlite import migrated_file

pytestmark = pytest.mark.postgres

USERNAMES = st.sampled_from(["ada", "Ada", "ADA", "bob", "b.o-b", "B.O-B", "carol_1", "x" * 32, "no"])
EMAILS = st.sampled_from(
    ["ada@example.com", "ADA@Example.com", "straße@x.de", "STRASSE@x.de", "Ädä@example.com",
     "ädä@EXAMPLE.com", "o'brien%_\\x@ex.org", "  bob@example.com ", "not-an-email", "x@y.z"]
)  # fmt: skip
# Any string a name may hold: quotes, backslashes, LIKE wildcards, any script, up to the limit.
NAMES = st.one_of(
    st.none(),
    st.sampled_from(
        ["O'Brien", 'say "hi"', "back\\slash", "100%", "a_b", "  ", "Zoë", "名前", "😀" * NAME_MAX]
    ),
    st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=NAME_MAX),
)
DRAFTS = st.fixed_dictionaries(
    {"username": USERNAMES, "email": EMAILS}, optional={"first_name": NAMES, "last_name": NAMES}
)
FILTERS = st.builds(
    UserFilter.parse,
    email=st.none() | EMAILS,
    username=st.none() | USERNAMES,
    q=st.none() | st.sampled_from(["a", "A", "%", "_", "\\", "ß", "ss", "o'b", "@example"]),
)


class Side:
    """One storage, driven through the domain's use cases, as the operator, with the same clock and
    ids as the other. (The drafts carry no password: the hasher and the throttle stay unused.)"""

    def __init__(self, users: UserRepository, clock: ManualClock) -> None:
        ids = (UUID(int=n) for n in range(1, 1 << 30))
        hasher = Argon2PasswordHasher(HashingOptions(time_cost=1, memory_kib=8))
        check = PasswordCheck(hasher, InMemoryLoginAttempts(), clock)
        self.register = partial(RegisterUser(users, clock, lambda: next(ids), hasher), OPERATOR)
        self.register_many = partial(RegisterUsers(users, clock, lambda: next(ids), hasher), OPERATOR)
        self.get, self.list = partial(GetUser(users), OPERATOR), partial(ListUsers(users), OPERATOR)
        self.change = partial(ChangeUser(users, clock, hasher, check), OPERATOR)
        self.remove = partial(RemoveUser(users), OPERATOR)


Outcome = tuple[str, Any]


async def outcome(call: Awaitable[Any]) -> Outcome:
    """What a client would see: the value, or the domain error with the data it carries."""
    try:
        return ("ok", await call)
    except DomainError as error:
        return (
            type(error).__name__,
            (str(error), getattr(error, "errors", ()), getattr(error, "conflicts", ())),
        )


@pytest.fixture
def postgres(database_url: str) -> Iterator[tuple[asyncio.AbstractEventLoop, PostgresUserRepository]]:
    """A pool on a loop of the test's own: Hypothesis drives the machine synchronously."""
    loop = asyncio.new_event_loop()

    async def open_() -> Any:
        pool = new_pool(database_url, PoolOptions(min_size=1, max_size=2))
        await pool
        return pool

    pool = loop.run_until_complete(open_())
    yield loop, PostgresUserRepository(pool, acquire_timeout=5)
    loop.run_until_complete(pool.close())
    loop.close()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[tuple[SqliteStore, SqliteUserRepository]]:
    """A SQLite file of the test's own, its store open (it serves any loop of this thread)."""
    store = SqliteStore(migrated_file(tmp_path).removeprefix("sqlite:///"), StoreOptions(write_timeout=5))
    store.open()
    yield store, SqliteUserRepository(store)
    store.close()


async def empty_file(store: SqliteStore) -> None:
    await store.write(lambda connection: connection.execute("DELETE FROM users"))


@pytest.mark.hypothesis  # what `make fuzz` runs on a new seed (a test under @given is marked already)
def test_memory_sqlite_and_postgres_answer_every_sequence_alike(
    postgres: tuple[asyncio.AbstractEventLoop, PostgresUserRepository],
    sqlite: tuple[SqliteStore, SqliteUserRepository],
    database_url: str,
) -> None:
    loop, repository = postgres
    store, file_repository = sqlite

    class SameAnswers(RuleBasedStateMachine):
        users = Bundle("users")

        def __init__(self) -> None:
            super().__init__()
            loop.run_until_complete(empty(database_url))
            loop.run_until_complete(empty_file(store))
            self.clock = ManualClock()
            self.memory = Side(InMemoryUserRepository(), self.clock)
            self.sqlite = Side(file_repository, self.clock)
            self.postgres = Side(repository, self.clock)
            self.registered = 0  # users registered so far: at least as many as are stored

        def both(self, use_case: str, *args: Any, **kwargs: Any) -> Outcome:
            """Calls one use case on each side with the same arguments; all must answer alike."""
            expected = loop.run_until_complete(outcome(getattr(self.memory, use_case)(*args, **kwargs)))
            on_file = loop.run_until_complete(outcome(getattr(self.sqlite, use_case)(*args, **kwargs)))
            actual = loop.run_until_complete(outcome(getattr(self.postgres, use_case)(*args, **kwargs)))
            assert (on_file, actual) == (expected, expected)
            return expected

        @rule(target=users, draft=DRAFTS)
        def register(self, draft: dict[str, str]) -> UUID | None:
            kind, user = self.both("register", draft)
            if kind != "ok":
                return None
            self.registered += 1
            user_id: UUID = user.id
            return user_id

        @rule(drafts=st.lists(DRAFTS, min_size=1, max_size=4))
        def register_many(self, drafts: list[dict[str, str]]) -> None:
            kind, _ = self.both("register_many", drafts)
            if kind == "ok":
                self.registered += len(drafts)

        @rule(user_id=users)
        def get(self, user_id: UUID | None) -> None:
            self.both("get", user_id or UUID(int=0))

        @rule(user_id=users, changes=DRAFTS, stale=st.booleans())
        def change(self, user_id: UUID | None, changes: dict[str, str], stale: bool) -> None:
            self.both("change", user_id or UUID(int=0), changes, {99} if stale else None)

        @rule(user_id=consumes(users), stale=st.booleans())
        def remove(self, user_id: UUID | None, stale: bool) -> None:
            self.both("remove", user_id or UUID(int=0), {99} if stale else None)

        @rule(seconds=st.sampled_from([0, 0, 0.000001, 1]))
        def tick(self, seconds: float) -> None:
            self.clock.advance(seconds=seconds)  # 0: ties on created_at, which id must break

        @rule(
            sort=st.sampled_from(Sort),
            filter=FILTERS,
            limit=st.integers(1, 3),
            offset=st.none() | st.integers(0, 5),
        )
        def walk(self, sort: Sort, filter: UserFilter, limit: int, offset: int | None) -> None:
            """Every page of one listing, following the cursors, includes the total."""
            query: dict[str, Any] = {"limit": limit, "sort": sort, "filter": filter, "offset": offset}
            pages = self.registered // limit + 2  # enough for everyone, and an empty last page
            for _ in range(pages):
                kind, page = self.both("list", **query, include_total=True)
                if kind != "ok" or page.next_cursor is None:
                    return
                query = {**query, "cursor": page.next_cursor, "offset": None}
            raise AssertionError(
                f"still a next cursor after {pages} pages of {limit}, with at most {self.registered} "
                f"users stored ({sort}): the listing goes round in circles"
            )

        @invariant()
        def everyone_is_stored_alike(self) -> None:
            self.both("list", limit=200, include_total=True)

    run_state_machine_as_test(
        SameAnswers,
        settings=settings(
            max_examples=40,
            stateful_step_count=25,
            suppress_health_check=[HealthCheck.too_slow],
            deadline=None,
        ),
    )


@given(
    first_name=NAMES,
    last_name=NAMES,
    local=st.text(
        st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp")).filter(lambda c: c not in "@ \t"),
        min_size=1,
        max_size=60,
    ),
)
@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
def test_any_string_a_field_may_hold_round_trips_byte_for_byte(
    postgres: tuple[asyncio.AbstractEventLoop, PostgresUserRepository],
    sqlite: tuple[SqliteStore, SqliteUserRepository],
    database_url: str,
    first_name: str | None,
    last_name: str | None,
    local: str,
) -> None:
    loop, repository = postgres
    loop.run_until_complete(empty(database_url))
    loop.run_until_complete(empty_file(sqlite[0]))
    draft = {
        "username": "ada",
        "email": f"{local}@example.com",
        "first_name": first_name,
        "last_name": last_name,
    }
    sides = [Side(InMemoryUserRepository(), ManualClock()), Side(repository, ManualClock())]
    sides.append(Side(sqlite[1], ManualClock()))
    registered = [loop.run_until_complete(outcome(side.register(draft))) for side in sides]
    assert registered[0] == registered[1] == registered[2]
    kind, user = registered[0]
    if kind != "ok":
        return
    stored: list[User] = [loop.run_until_complete(side.get(user.id)) for side in sides]
    assert stored == [user, user, user]
    assert user.profile.email == f"{local}@example.com".strip()
    for name, given_name in ((user.profile.first_name, first_name), (user.profile.last_name, last_name)):
        assert name == ((given_name or "").strip() or None)
        if name:  # its own text finds it, wildcards and quotes included
            pages = [
                loop.run_until_complete(side.list(limit=5, filter=UserFilter.parse(q=name))) for side in sides
            ]
            assert [page.items for page in pages] == [[user], [user], [user]]
