from collections.abc import Iterator

import pytest

from tests.postgres import drop_test_database, empty, in_own_thread, migrated_test_database


@pytest.fixture(scope="module")
def served_database() -> Iterator[str]:
    """A migrated database for one module's servers; each test empties it first."""
    url = in_own_thread(migrated_test_database)
    yield url
    in_own_thread(drop_test_database, url)


@pytest.fixture
async def database(served_database: str) -> str:
    """The module's database, emptied for this test."""
    await empty(served_database)
    return served_database
