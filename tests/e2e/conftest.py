import pytest

from tests.postgres import empty


@pytest.fixture
async def database(own_database: str) -> str:
    """The module's database, emptied for this test."""
    await empty(own_database)
    return own_database
