import pytest

from adapters.memory import InMemoryUserRepository
from domain.sources import Uuid7Ids
from domain.use_cases import ChangeUser, GetUser, ListUsers, RegisterUser, RegisterUsers, RemoveUser
from tests.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def users() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture
def register(users: InMemoryUserRepository, clock: ManualClock) -> RegisterUser:
    return RegisterUser(users, clock, Uuid7Ids())


@pytest.fixture
def register_many(users: InMemoryUserRepository, clock: ManualClock) -> RegisterUsers:
    return RegisterUsers(users, clock, Uuid7Ids())


@pytest.fixture
def get(users: InMemoryUserRepository) -> GetUser:
    return GetUser(users)


@pytest.fixture
def list_users(users: InMemoryUserRepository) -> ListUsers:
    return ListUsers(users)


@pytest.fixture
def change(users: InMemoryUserRepository, clock: ManualClock) -> ChangeUser:
    return ChangeUser(users, clock)


@pytest.fixture
def remove(users: InMemoryUserRepository) -> RemoveUser:
    return RemoveUser(users)
