from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import InMemoryUserRepository
from domain.model import Profile, User
from domain.ports import UserRepository
from domain.sources import Uuid7Ids

T0 = datetime(2026, 11, 23, 10, 0, 0, 123456, tzinfo=UTC)
_new_id = Uuid7Ids()


@pytest.fixture(params=["memory"])
def repository(request: pytest.FixtureRequest) -> UserRepository:
    """Every adapter of the port; the suite below must pass on each of them unchanged."""
    return InMemoryUserRepository()


def a_user(username: str, email: str | None = None, *, seconds: float = 0, **names: str | None) -> User:
    moment = T0 + timedelta(seconds=seconds)
    profile = Profile.parse({"username": username, "email": email or f"{username}@example.com", **names})
    return User(_new_id(), profile, created_at=moment, updated_at=moment)
