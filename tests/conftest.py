from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.postgres import drop_test_database, in_own_thread, migrated_test_database


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """This session's own migrated database; each test that uses it empties it first."""
    url = in_own_thread(migrated_test_database)
    yield url
    in_own_thread(drop_test_database, url)


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    """A migrated database for one module: for tests that change more than rows, or that hand it
    to a server process."""
    url = in_own_thread(migrated_test_database)
    yield url
    in_own_thread(drop_test_database, url)


# Fixed seeds: a red build replays the same way.
settings.register_profile("default", derandomize=True, deadline=None, print_blob=True)
