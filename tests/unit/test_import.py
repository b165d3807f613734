"""Importing users: every row checked by the domain, bad rows reported by line, good rows kept,
or nothing with `atomic`."""

from collections.abc import Iterable

import pytest

from adapters.memory import InMemoryUserRepository
from adapters.passwords import Argon2PasswordHasher
from domain.access import OPERATOR
from domain.listing import Sort
from domain.sources import Uuid7Ids
from domain.use_cases import ImportUsers, ListUsers, Row
from tests.clock import ManualClock
from tests.unit.conftest import CHEAP


def row(line: int, username: str, email: str | None = None, **names: str) -> Row:
    return line, {"username": username, "email": email or f"{username}@example.com", **names}


async def stored(users: InMemoryUserRepository) -> list[str]:
    page = await ListUsers(users)(OPERATOR, limit=200, sort=Sort.USERNAME)
    return [user.profile.username for user in page.items]


@pytest.fixture
def users() -> InMemoryUserRepository:
    return InMemoryUserRepository()


HASHER = Argon2PasswordHasher(CHEAP)


def importer(users: InMemoryUserRepository, batch_size: int = 2) -> ImportUsers:
    return ImportUsers(users, ManualClock(), Uuid7Ids(), HASHER, batch_size=batch_size)


ROWS: list[Row] = [
    row(2, "ada"),
    row(3, "x", "not-an-email"),
    (4, "not valid JSON"),
    row(5, "bob", first_name="Bob"),
    row(6, "ADA", "other@example.com"),  # taken by line 2 (batches of 2: an earlier batch)
    row(7, "carol"),
    row(8, "dave", "CAROL@example.com"),  # taken by line 7
]


async def test_good_rows_are_stored_and_bad_ones_reported_by_line(users: InMemoryUserRepository) -> None:
    report = await importer(users)(OPERATOR, ROWS)

    assert (report.rows, report.stored) == (7, 3)
    assert await stored(users) == ["ada", "bob", "carol"]
    assert [(error.line, error.field) for error in report.errors] == [
        (3, "username"),
        (3, "email"),
        (4, None),
        (6, "username"),
        (8, "email"),
    ]
    assert all(error.message for error in report.errors)


async def test_an_atomic_import_with_a_bad_row_stores_nothing_and_reports_every_bad_row(
    users: InMemoryUserRepository,
) -> None:
    rows = [row(2, "ada"), row(3, "bob"), row(4, "x", "bad"), row(5, "carol"), (6, "not a JSON object")]

    report = await importer(users)(OPERATOR, rows, atomic=True)

    assert (report.rows, report.stored) == (5, 0)
    assert await stored(users) == []
    assert sorted({error.line for error in report.errors}) == [4, 6]


async def test_an_atomic_import_that_meets_a_taken_key_stores_nothing_and_names_its_line(
    users: InMemoryUserRepository,
) -> None:
    await importer(users)(OPERATOR, [row(1, "zoe")])
    rows = [row(2, "ada"), row(3, "bob"), row(4, "carol"), row(5, "ZOE", "z2@example.com")]

    report = await importer(users)(OPERATOR, rows, atomic=True)

    assert report.stored == 0
    assert await stored(users) == ["zoe"]
    assert [(error.line, error.field) for error in report.errors] == [(5, "username")]


async def test_an_atomic_import_of_good_rows_stores_them_all(users: InMemoryUserRepository) -> None:
    report = await importer(users)(OPERATOR, [row(n, f"user{n}") for n in range(1, 8)], atomic=True)

    assert (report.rows, report.stored, report.errors) == (7, 7, [])
    assert len(await stored(users)) == 7


async def test_progress_is_told_after_each_batch(users: InMemoryUserRepository) -> None:
    told: list[int] = []
    rows: Iterable[Row] = (row(n, f"user{n}") for n in range(1, 6))  # a generator: read once

    await importer(users, batch_size=2)(OPERATOR, rows, progress=told.append)

    assert told == [2, 4, 5]
    assert len(await stored(users)) == 5


async def test_rows_colliding_within_one_batch_keep_the_first(users: InMemoryUserRepository) -> None:
    report = await importer(users, batch_size=10)(
        OPERATOR, [row(2, "ada"), row(3, "bob"), row(4, "Ada", "a2@example.com")]
    )

    assert await stored(users) == ["ada", "bob"]
    assert [(error.line, error.field) for error in report.errors] == [(4, "username")]


async def test_password_hashes_from_another_system_come_along_when_recognized(
    users: InMemoryUserRepository,
) -> None:
    argon2 = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$0gTRTbqmhUX/fSgdM5sVJlJ0u3vVsGNBbwuCdSuT3wA"
    bcrypt = "$2b$12$Z0CxTaxO7UyJKqSKvbiFzuaVY0pmyxHsbchcdzbF0hcT4MqkRqLku"
    rows: list[Row] = [
        row(2, "ada", password_hash=argon2),
        row(3, "bob", password_hash=bcrypt),
        row(4, "carol", password_hash="$1$md5crypt$nope"),
        row(5, "dave", password_hash="plain text"),
        row(6, "eve", password_hash=""),  # an empty cell: no password
    ]

    report = await importer(users)(OPERATOR, rows)

    assert [(error.line, error.field) for error in report.errors] == [
        (4, "password_hash"),
        (5, "password_hash"),
    ]
    assert await stored(users) == ["ada", "bob", "eve"]
    hashes = {key: (await users.find_by_login(key)).password_hash for key in ["ada", "bob", "eve"]}  # type: ignore[union-attr]
    assert hashes == {"ada": argon2, "bob": bcrypt, "eve": None}
