"""Schemathesis against the app's own OpenAPI schema, in process, on each storage, with every check
on: no server error, status codes, media types, response schemas and headers, negative data
rejected, positive data accepted, unsupported methods, and more. It runs all of schemathesis's
phases (examples, coverage, fuzzing, and stateful sequences along the schema's links).

The seed is fixed, so a red build replays; `make fuzz` runs ten times longer on a random seed
(USERS_TEST_FUZZ_EXAMPLES, USERS_TEST_FUZZ_SEED).
"""

import asyncio
import os
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema
from schemathesis.engine.recorder import RecordedScenario
from schemathesis.python.asgi import shutdown_lifespans

from adapters.postgres import PoolOptions, PostgresUserRepository, open_pool
from adapters.sqlite import SqliteUserRepository
from bootstrap import Container, Settings, create_container
from domain.listing import Keyset, PageQuery, Sort, UserFilter
from domain.model import Profile, Role, User
from domain.ports import UserRepository
from domain.sources import Uuid7Ids
from entrypoints.http import create_app
from tests.api.conftest import ADMIN, TESTING
from tests.postgres import empty, in_own_thread
from tests.sqlite import migrated_file, open_store

pytestmark = pytest.mark.fuzz

EXAMPLES = int(os.environ.get("USERS_TEST_FUZZ_EXAMPLES", "25"))
_SEED = os.environ.get("USERS_TEST_FUZZ_SEED", "20261123")
SEED = random.randrange(2**32) if _SEED == "random" else int(_SEED)  # noqa: S311 (a test seed)
TEST_HOST = "testserver"  # the Host header of schemathesis's ASGI client
NOW = datetime.now(UTC)
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis's default
CONFIG = {
    "seed": SEED,
    "generation": {"max-examples": EXAMPLES},
    # What a schema cannot say: a cursor is opaque (a made-up one is a 400), and an If-Match that
    # is well formed but stale is a 412. Both are valid data with a documented refusal.
    "operations": [
        {
            "include-name": "GET /api/v1/users",
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
        },
        {
            "include-method-regex": "^(PATCH|DELETE)$",
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "412"]}},
        },
        # Made-up credentials are valid data, and their documented answer is 400 invalid_grant.
        {
            "include-name": "POST /api/v1/auth/token",
            "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
        },
    ],
}


OPERATIONS = {  # all but the token endpoint, which no made-up password gets past
    "POST /api/v1/users",
    "GET /api/v1/users/me",
    "POST /api/v1/users/bulk",
    "GET /api/v1/users",
    "GET /api/v1/users/{user_id}",
    "PATCH /api/v1/users/{user_id}",
    "DELETE /api/v1/users/{user_id}",
    "GET /health/live",
    "GET /health/ready",
}


@dataclass
class Report:
    cases: Counter[str] = field(default_factory=Counter)  # by phase
    checks: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    served: set[str] = field(default_factory=set)  # operations that took some generated valid data


def fuzz(settings: Settings) -> Report:
    container = create_container(settings)
    admin = User(Uuid7Ids()(), Profile.parse(ADMIN), NOW, NOW, role=Role.ADMIN)
    in_own_thread(asyncio.run, _store(container, admin))
    app = create_app(container)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=SchemathesisConfig.from_dict(CONFIG))

    class AsTheAdmin:
        """Every request as the admin, so that every operation is reached (members and strangers
        have tests of their own). The token is made afresh for each case, from the admin as stored
        then: a generated patch may well have changed the admin's password, revoking the last one."""

        def get(self, case: schemathesis.Case[Any], context: schemathesis.AuthContext) -> str:
            current = in_own_thread(asyncio.run, _read(container, admin.id))
            return container.tokens().issue(current).value

        def set(self, case: schemathesis.Case[Any], token: str, context: schemathesis.AuthContext) -> None:
            case.headers["Authorization"] = f"Bearer {token}"
            _one_key_per_request(case)

    schema.auth(refresh_interval=None)(AsTheAdmin)
    report = Report()
    try:
        for event in from_schema(schema).execute():
            if isinstance(event, events.ScenarioFinished):
                report.cases[event.phase.value] += len(event.recorder.cases)
                if event.phase.value == "fuzzing" and _serves_valid_data(event.recorder):
                    report.served.add(event.recorder.label)
                for case_checks in event.recorder.checks.values():
                    for check in case_checks:
                        report.checks.add(check.name)
                        if check.status == Status.FAILURE and check.failure_info is not None:
                            info = check.failure_info
                            report.failures.append(f"{check.name}: {info.failure.title}\n{info.code_sample}")
            elif isinstance(event, events.NonFatalError | events.FatalError):
                report.errors.append(str(getattr(event, "info", event)))
    finally:
        shutdown_lifespans()  # schemathesis keeps the app's lifespan (its pool) open until told
    return report


def _one_key_per_request(case: schemathesis.Case[Any]) -> None:
    """What the schema cannot say: an Idempotency-Key belongs to one request. A valid key drawn
    again for another body is rightly a 422 `idempotency_key_reused`, so each valid case sends a
    key of its own (invalid keys stay as drawn, and must be refused)."""
    if case.headers is None or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    for name in list(case.headers):
        if name.lower() == "idempotency-key":
            case.headers[name] = uuid4().hex


async def _read(container: Container, user_id: UUID) -> User:
    settings = container.settings()
    if settings.storage == "memory":
        return await _an_admin(container.repository(), user_id)
    if settings.storage == "sqlite":
        async with open_store(settings.dsn()) as store:
            return await _an_admin(SqliteUserRepository(store), user_id)
    async with open_pool(settings.dsn(), PoolOptions(min_size=1, max_size=1)) as pool:
        return await _an_admin(PostgresUserRepository(pool, acquire_timeout=5), user_id)


async def _an_admin(repository: UserRepository, user_id: UUID) -> User:
    """The admin as stored; or, when a generated request made another admin and then demoted or
    removed this one, any admin still stored (the last one is never removed)."""
    user = await repository.get(user_id)
    if user is not None and user.role is Role.ADMIN:
        return user
    after = None
    for _ in range(100):  # pages of 200: far more users than a run makes
        page = await repository.list(PageQuery(Sort.CREATED_AT, UserFilter(), limit=200, after=after))
        admins = [user for user in page if user.role is Role.ADMIN]
        if admins:
            return admins[0]
        if len(page) < 200:
            break
        after = Keyset.of(page[-1], Sort.CREATED_AT)
    raise AssertionError("no admin is left: the last one was removed or demoted")


async def _store(container: Container, user: User) -> None:
    """Stores `user` before the app starts: in its own memory, or on a pool or store of this
    thread's loop."""
    settings = container.settings()
    if settings.storage == "memory":
        await container.repository().add(user)
        return
    if settings.storage == "sqlite":
        async with open_store(settings.dsn()) as store:
            await SqliteUserRepository(store).add(user)
        return
    async with open_pool(settings.dsn(), PoolOptions(min_size=1, max_size=1)) as pool:
        await PostgresUserRepository(pool, acquire_timeout=5).add(user)


def _serves_valid_data(recorder: RecordedScenario) -> bool:
    """Whether a valid case was accepted: served, or refused for the store's state alone (a 409: the
    username or email taken, often by the schema's own example), never for its shape."""
    for node in recorder.cases.values():
        case, interaction = node.value, recorder.interactions.get(node.value.id)
        if case.meta is None or not case.meta.generation.mode.is_positive or interaction is None:
            continue
        if interaction.response is not None and (
            interaction.response.status_code < 400 or interaction.response.status_code == 409
        ):
            return True
    return False


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def settings(request: pytest.FixtureRequest) -> Settings:
    if request.param == "memory":
        return Settings(_env_file=None, trusted_hosts=TEST_HOST, database_url="memory://", **TESTING)
    if request.param == "sqlite":
        sqlite_url = migrated_file(request.getfixturevalue("tmp_path"))
        return Settings(_env_file=None, trusted_hosts=TEST_HOST, database_url=sqlite_url, **TESTING)
    url: str = request.getfixturevalue("database_url")
    in_own_thread(asyncio.run, empty(url))
    return Settings(_env_file=None, trusted_hosts=TEST_HOST, database_url=url, pool_max_size=4, **TESTING)


def test_no_generated_request_or_sequence_breaks_the_contract(settings: Settings) -> None:
    report = fuzz(settings)

    cases = sum(report.cases.values())
    print(f"\nfuzzed {cases} cases on {settings.storage} (seed {SEED}): {dict(report.cases)}")
    assert report.errors == []
    assert report.failures == [], "\n\n".join(report.failures[:10])
    for phase in ("examples", "coverage", "fuzzing", "stateful"):
        assert report.cases[phase] > 0, f"the {phase} phase ran no case"
    # An operation that answers no generated valid request with a success is one whose schema and
    # validation disagree (schemathesis warns "mostly rejected generated data").
    assert report.served == OPERATIONS
    assert {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "unsupported_method",
        "use_after_free",
        "ensure_resource_availability",
    } <= report.checks
