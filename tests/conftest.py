from collections.abc import Iterator

import pytest
from hypothesis import settings

from tests.postgres import drop_test_database, in_own_thread, migrated_test_database

DATABASE_FIXTURES = {"database_url", "own_database"}


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


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that takes a database must carry the postgres marker, so that `-m "not postgres"` runs
    without a server."""
    unmarked = [
        item.nodeid
        for item in items
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
        and item.get_closest_marker("postgres") is None
    ]
    if unmarked:
        raise pytest.UsageError("not marked postgres, but they take a database: " + ", ".join(unmarked))


# By default every Hypothesis test draws the same examples on every run: a red build stays red on a
# rerun. `make fuzz` loads "fuzz" instead: new examples, drawn from the seed it prints.
settings.register_profile("default", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, deadline=None, print_blob=True)


@pytest.hookimpl(trylast=True)  # after Hypothesis has loaded the profile named on the command line
def pytest_configure(config: pytest.Config) -> None:
    """A seed means random examples: --hypothesis-seed alone would be ignored by a derandomized profile."""
    if config.getoption("--hypothesis-seed") is not None and settings().derandomize:
        settings.load_profile("fuzz")


def pytest_report_header(config: pytest.Config) -> str | None:
    seed = config.getoption("--hypothesis-seed")
    if seed is None:
        return None
    return f"hypothesis: profile {settings.get_current_profile_name()!r}, seed {seed}"
