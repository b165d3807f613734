import pytest

from adapters.memory import InMemoryLoginAttempts, InMemoryUserRepository
from adapters.passwords import Argon2PasswordHasher, HashingOptions
from domain.sources import Uuid7Ids
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

# The real Argon2id, at its cheapest: the unit tests check rules, not the cost of guessing.
CHEAP = HashingOptions(time_cost=1, memory_kib=8, concurrency=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def users() -> InMemoryUserRepository:
    return InMemoryUserRepository()


@pytest.fixture(scope="session")
def hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(CHEAP)


@pytest.fixture
def attempts() -> InMemoryLoginAttempts:
    return InMemoryLoginAttempts()


@pytest.fixture
def check(hasher: Argon2PasswordHasher, attempts: InMemoryLoginAttempts, clock: ManualClock) -> PasswordCheck:
    return PasswordCheck(hasher, attempts, clock)


@pytest.fixture
def register(users: InMemoryUserRepository, clock: ManualClock, hasher: Argon2PasswordHasher) -> RegisterUser:
    return RegisterUser(users, clock, Uuid7Ids(), hasher)


@pytest.fixture
def register_many(
    users: InMemoryUserRepository, clock: ManualClock, hasher: Argon2PasswordHasher
) -> RegisterUsers:
    return RegisterUsers(users, clock, Uuid7Ids(), hasher)


@pytest.fixture
def get(users: InMemoryUserRepository) -> GetUser:
    return GetUser(users)


@pytest.fixture
def list_users(users: InMemoryUserRepository) -> ListUsers:
    return ListUsers(users)


@pytest.fixture
def change(
    users: InMemoryUserRepository, clock: ManualClock, hasher: Argon2PasswordHasher, check: PasswordCheck
) -> ChangeUser:
    return ChangeUser(users, clock, hasher, check)


@pytest.fixture
def remove(users: InMemoryUserRepository) -> RemoveUser:
    return RemoveUser(users)
