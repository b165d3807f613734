"""The composition root: settings, and the container that wires adapters into use cases.

Nothing is built at import time; `create_container()` and `create_app()` build on demand.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Annotated, Any, Literal, Self, TypeVar

from dependency_injector import containers, providers
from fastapi import FastAPI
from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from adapters.memory import InMemoryLoginAttempts, InMemoryUserRepository
from adapters.memory_keys import InMemoryIdempotencyKeys
from adapters.passwords import Argon2PasswordHasher, HashingOptions
from adapters.postgres import (
    PoolOptions,
    PostgresIdempotencyKeys,
    PostgresLoginAttempts,
    PostgresUserRepository,
    create_database,
    describe,
    migrate,
    new_pool,
    run_pool,
    usage,
    wait_for_database,
)
from adapters.postgres.admin import MAINTENANCE_DATABASE, schema_behind
from adapters.sqlite import (
    SqliteIdempotencyKeys,
    SqliteLoginAttempts,
    SqliteStore,
    SqliteUserRepository,
    StoreOptions,
    backup,
    create_file,
    path_of,
    run_store,
)
from adapters.sqlite import describe as describe_file
from adapters.sqlite import migrate as migrate_file
from adapters.sqlite import revision as file_revision
from adapters.sqlite import schema_behind as file_schema_behind
from adapters.tokens import SECRET_MIN_BYTES, JwtTokens
from domain.access import OPERATOR
from domain.idempotency import Replays
from domain.sources import Uuid7Ids, utc_now
from domain.use_cases import (
    Authenticate,
    ChangeUser,
    CreateFirstAdmin,
    GetCaller,
    GetUser,
    ImportReport,
    ImportUsers,
    IssueToken,
    ListUsers,
    PasswordCheck,
    RecentVersions,
    RegisterUser,
    RegisterUsers,
    RemoveUser,
    Row,
)
from entrypoints.cli import build_cli
from entrypoints.http import create_app
from entrypoints.http.metrics import Metrics
from entrypoints.logs import LogFormat, lean_records

log = logging.getLogger("users_api")
T = TypeVar("T")
Storage = Literal["memory", "sqlite", "postgres"]
DEFAULT_DATABASE_URL = "sqlite:///users.db"  # ./users.db, in the working directory


class Settings(BaseSettings):
    """Read from `USERS_*` environment variables and an optional `.env` file."""

    # No error ever repeats a value it was given: the database URL holds a password.
    model_config = SettingsConfigDict(
        env_prefix="USERS_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: SecretStr = Field(
        default=SecretStr(DEFAULT_DATABASE_URL),
        description="sqlite:///path/to/users.db (default ./users.db), memory://, or"
        " postgresql://user:password@host:port/name",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    log_format: LogFormat = Field(default="text", description="json: one JSON object per line")
    trusted_hosts: Annotated[list[str], NoDecode] = Field(
        default=["localhost", "127.0.0.1", "::1"],
        description="comma-separated Host header values served (`*.example.com`, `*` for any); others: 400",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default=[], description="comma-separated origins that browsers may call from; none by default"
    )
    ready_timeout: float = Field(default=1.0, gt=0, description="seconds /health/ready waits for storage")
    shutdown_timeout: int = Field(default=10, gt=0, description="seconds in-flight requests get at stop")
    concurrency_limit: int = Field(
        default=500, ge=1, description="connections and requests `serve` holds at once; beyond: 503"
    )
    header_timeout: float = Field(
        default=10.0, gt=0, description="seconds a request line and headers may take; then `serve` hangs up"
    )
    body_timeout: float = Field(
        default=30.0, gt=0, description="seconds a request body may take to arrive; then 408"
    )
    start_timeout: float = Field(default=10.0, ge=0, description="seconds `serve` waits for the database")
    workers: int = Field(default=1, ge=1, le=64, description="processes serving the port (PostgreSQL only)")
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default=[],
        description="comma-separated proxy addresses whose X-Forwarded-For/-Proto are believed; none",
    )
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1, description="connections a worker's pool holds at most")
    database_pool_budget: int = Field(
        default=20, ge=1, description="connections all the workers of one `serve` hold at most, together"
    )
    pool_acquire_timeout: float = Field(
        default=2.0, gt=0, description="seconds a request waits for a connection"
    )
    pool_close_timeout: float = Field(default=5.0, gt=0, description="seconds to close the pool, then cut")
    connect_timeout: float = Field(default=5.0, gt=0)
    command_timeout: float = Field(default=10.0, gt=0, description="seconds the client waits for a statement")
    statement_timeout: float = Field(default=5.0, gt=0, description="seconds the server runs a statement")
    application_name: str = Field(default="users-api", min_length=1, max_length=63)
    pgbouncer: bool = Field(
        default=False, description="behind PgBouncer in transaction mode: no prepared statements"
    )
    token_secret: SecretStr | None = Field(
        default=None,
        description=f"signs the tokens; at least {SECRET_MIN_BYTES} bytes; unset: random per process",
    )
    token_lifetime: int = Field(default=900, ge=60, le=86_400, description="seconds a token is valid")
    token_revocation_delay: float = Field(
        default=2.0, ge=0, le=5, description="seconds a revoked token may still be accepted"
    )
    open_registration: bool = Field(default=False, description="anyone may register (as a member)")
    idempotency_lease: float = Field(
        default=60.0,
        gt=0,
        description="seconds a request holds its Idempotency-Key while it runs; a repeat meanwhile is a"
        " 409, and a request that died holding its key (its store unreachable) frees it after this long",
    )
    first_admin_username: str | None = None
    first_admin_email: str | None = None
    first_admin_password: SecretStr | None = None
    password_hash_time_cost: int = Field(default=2, ge=1, description="Argon2id passes")
    password_hash_memory_kib: int = Field(default=19_456, ge=8, description="Argon2id memory per hash")
    password_hash_concurrency: int = Field(
        default=max(1, (os.cpu_count() or 2) - 1),
        ge=1,
        description="hashes computed at once, shared among the workers; by default one core is left"
        " to answer requests",
    )

    _notes: list[str] = PrivateAttr(default_factory=list)

    @field_validator("database_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, url: Any) -> Any:
        # `USERS_DATABASE_URL=` is how compose files and CI systems often say "not set".
        return DEFAULT_DATABASE_URL if url is None or (isinstance(url, str) and not url.strip()) else url

    @field_validator("token_secret", mode="before")
    @classmethod
    def _empty_secret_is_unset(cls, secret: Any) -> Any:
        return None if isinstance(secret, str) and not secret.strip() else secret

    @field_validator("database_url")
    @classmethod
    def _known_url(cls, url: SecretStr) -> SecretStr:
        value = url.get_secret_value()
        if value.startswith("sqlite:"):
            path_of(value)  # raises ValueError saying what a SQLite URL looks like
        elif value != "memory://" and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a sqlite:///path, memory:// or postgresql:// URL")
        return url

    @field_validator("token_secret")
    @classmethod
    def _long_enough(cls, secret: SecretStr | None) -> SecretStr | None:
        if secret is not None and len(secret.get_secret_value().encode()) < SECRET_MIN_BYTES:
            raise ValueError(f"must be at least {SECRET_MIN_BYTES} bytes")
        return secret

    @field_validator("trusted_hosts", "cors_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return (
            [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        )

    @model_validator(mode="after")
    def _pool_sizes(self) -> Self:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("pool_min_size must not exceed pool_max_size")
        if self.database_pool_budget < self.workers:
            raise ValueError(
                f"USERS_DATABASE_POOL_BUDGET ({self.database_pool_budget}) is smaller than USERS_WORKERS"
                f" ({self.workers}): every worker needs a connection of its own"
            )
        return self

    @property
    def worker_pool_max(self) -> int:
        """A worker's pool at most: the pool max, or its share of the budget when that is smaller,
        so that workers x this never exceeds USERS_DATABASE_POOL_BUDGET."""
        return min(self.pool_max_size, self.database_pool_budget // self.workers)

    @model_validator(mode="after")
    def _first_admin_whole(self) -> Self:
        given = [self.first_admin_username, self.first_admin_email, self.first_admin_password]
        if any(value is not None for value in given) and None in given:
            raise ValueError("set all three of USERS_FIRST_ADMIN_USERNAME, _EMAIL and _PASSWORD, or none")
        return self

    @property
    def notes(self) -> list[str]:
        """What start-up did that an operator should hear of (a file migrated)."""
        return self._notes

    def cautions(self) -> list[str]:
        """What an operator should know before serving with these settings."""
        if self.token_secret is not None:
            return [*self._notes]
        return [
            *self._notes,
            "USERS_TOKEN_SECRET is not set, so tokens are signed with a secret made for this process:"
            " they will not survive a restart nor be accepted by another replica, and a create retried"
            " with its Idempotency-Key after a restart is refused as another request (fine to try it"
            " out, wrong in production)",
        ]

    def with_token_secret(self) -> Settings:
        """These settings, with a random token secret when none is set (see the README)."""
        if self.token_secret is not None:
            return self
        return self.model_copy(update={"token_secret": SecretStr(secrets.token_urlsafe(SECRET_MIN_BYTES))})

    def token_key(self) -> bytes:
        if self.token_secret is None:
            raise ValueError("USERS_TOKEN_SECRET is not set")
        return self.token_secret.get_secret_value().encode()

    def hashing_options(self) -> HashingOptions:
        return HashingOptions(
            time_cost=self.password_hash_time_cost,
            memory_kib=self.password_hash_memory_kib,
            concurrency=max(1, self.password_hash_concurrency // self.workers),  # a share per worker
        )

    @property
    def storage(self) -> Storage:
        url = self.database_url.get_secret_value()
        return "memory" if url == "memory://" else "sqlite" if url.startswith("sqlite:") else "postgres"

    def dsn(self) -> str:
        """The database URL in clear, for the driver alone."""
        if self.storage == "memory":
            raise ValueError("USERS_DATABASE_URL is memory://: there is no database to work on")
        return self.database_url.get_secret_value()

    def store_options(self) -> StoreOptions:
        return StoreOptions(write_timeout=self.pool_acquire_timeout)

    def pool_options(self) -> PoolOptions:
        return PoolOptions(
            min_size=min(self.pool_min_size, self.worker_pool_max),
            max_size=self.worker_pool_max,
            connect_timeout=self.connect_timeout,
            command_timeout=self.command_timeout,
            statement_timeout=self.statement_timeout,
            close_timeout=self.pool_close_timeout,
            application_name=self.application_name,
            pgbouncer=self.pgbouncer,
        )


class MemoryStorage(containers.DeclarativeContainer):
    idempotency_keys = providers.Singleton(InMemoryIdempotencyKeys)
    repository = providers.Singleton(InMemoryUserRepository, idempotency_keys)
    login_attempts = providers.Singleton(InMemoryLoginAttempts)
    ready: providers.Object[None] = providers.Object(None)  # nothing to open
    pool_usage: providers.Object[None] = providers.Object(None)  # no pool, no pool metrics


class PostgresStorage(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    # Made and connected by the app's lifespan (inside the running loop), closed at shutdown within a
    # time limit. The repository depends on the pool, not on the Resource, so it stays synchronous.
    pool = providers.Singleton(new_pool, settings.provided.dsn.call(), settings.provided.pool_options.call())
    pool_life = providers.Resource(run_pool, pool, settings.provided.pool_close_timeout)
    ready = pool_life  # what must be open before anything is stored at start
    repository = providers.Singleton(
        PostgresUserRepository, pool, acquire_timeout=settings.provided.pool_acquire_timeout
    )
    login_attempts = providers.Singleton(
        PostgresLoginAttempts, pool, acquire_timeout=settings.provided.pool_acquire_timeout
    )
    idempotency_keys = providers.Singleton(
        PostgresIdempotencyKeys, pool, acquire_timeout=settings.provided.pool_acquire_timeout
    )
    pool_usage = providers.Factory(usage, pool)  # read afresh at every scrape


class SqliteStorage(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    # Opened by the app's lifespan (its writer thread started), closed at shutdown.
    store = providers.Singleton(
        SqliteStore,
        providers.Callable(path_of, settings.provided.dsn.call()),
        settings.provided.store_options.call(),
    )
    ready = providers.Resource(run_store, store)
    repository = providers.Singleton(SqliteUserRepository, store)
    login_attempts = providers.Singleton(SqliteLoginAttempts, store)
    idempotency_keys = providers.Singleton(SqliteIdempotencyKeys, store)
    pool_usage: providers.Object[None] = providers.Object(None)  # no pool: one file


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    ready_timeout = settings.provided.ready_timeout
    trusted_hosts = settings.provided.trusted_hosts
    cors_origins = settings.provided.cors_origins
    body_timeout = settings.provided.body_timeout
    storage = providers.DependenciesContainer()  # Memory-, Sqlite- or PostgresStorage: see create_container

    clock = providers.Object(utc_now)
    new_id = providers.Singleton(Uuid7Ids)
    repository = storage.repository
    metrics = providers.Singleton(Metrics, pool_usage=storage.pool_usage.provider)

    hasher = providers.Singleton(Argon2PasswordHasher, settings.provided.hashing_options.call())
    tokens = providers.Singleton(
        JwtTokens,
        secret=settings.provided.token_key.call(),
        lifetime=providers.Factory(timedelta, seconds=settings.provided.token_lifetime),
        clock=clock,
    )
    password_check = providers.Factory(
        PasswordCheck, hasher=hasher, attempts=storage.login_attempts, clock=clock
    )
    # One per app: credentials versions read lately, trusted for at most the revocation delay.
    recent_versions = providers.Singleton(
        RecentVersions, providers.Factory(timedelta, seconds=settings.provided.token_revocation_delay)
    )
    authenticate = providers.Factory(
        Authenticate, tokens=tokens, users=repository, clock=clock, recent=recent_versions
    )
    issue_token = providers.Factory(
        IssueToken, users=repository, check=password_check, hasher=hasher, tokens=tokens
    )
    replays = providers.Singleton(  # one per app: it holds nothing but its settings
        Replays,
        keys=storage.idempotency_keys,
        clock=clock,
        new_id=new_id,
        secret=settings.provided.token_key.call(),
        lease=providers.Factory(timedelta, seconds=settings.provided.idempotency_lease),
    )
    register_user = providers.Factory(
        RegisterUser,
        users=repository,
        clock=clock,
        new_id=new_id,
        hasher=hasher,
        open_registration=settings.provided.open_registration,
        replays=replays,
    )
    register_users = providers.Factory(
        RegisterUsers, users=repository, clock=clock, new_id=new_id, hasher=hasher, replays=replays
    )
    get_user = providers.Factory(GetUser, users=repository)
    get_caller = providers.Factory(GetCaller, users=repository)
    list_users = providers.Factory(ListUsers, users=repository)
    change_user = providers.Factory(
        ChangeUser, users=repository, clock=clock, hasher=hasher, check=password_check
    )
    remove_user = providers.Factory(RemoveUser, users=repository)
    import_users = providers.Factory(ImportUsers, users=repository, clock=clock, new_id=new_id, hasher=hasher)
    create_first_admin = providers.Factory(CreateFirstAdmin, users=repository, register=register_user)
    # At start, once storage is open: the admin of USERS_FIRST_ADMIN_* when the store has none.
    first_admin = providers.Resource(
        lambda create, settings, ready: _create_first_admin(create, settings),
        create=create_first_admin,
        settings=settings,
        ready=storage.ready,
    )


async def _create_first_admin(create: CreateFirstAdmin, settings: Settings) -> None:
    if settings.first_admin_username is None or settings.first_admin_password is None:
        return
    draft = {
        "username": settings.first_admin_username,
        "email": settings.first_admin_email,
        "password": settings.first_admin_password.get_secret_value(),
    }
    if (admin := await create(draft)) is not None:
        log.info("created the first admin, %s", admin.profile.username)


def create_container(settings: Settings | None = None) -> Container:
    """The storage the database URL names. Only the chosen storage is ever built, so the lifespan
    opens a pool or a file only when there is one to open."""
    settings = (settings or Settings()).with_token_secret()
    storage: containers.DeclarativeContainer
    if settings.storage == "memory":
        storage = MemoryStorage()
    elif settings.storage == "sqlite":
        storage = SqliteStorage(settings=settings)
    else:
        storage = PostgresStorage(settings=settings)
    return Container(settings=settings, storage=storage)


def build_app() -> FastAPI:
    """The app from the environment's settings, for `uvicorn --factory bootstrap:build_app`."""
    settings = Settings()
    for caution in settings.cautions():
        log.warning("%s", caution)
    return create_app(create_container(settings))


def build_worker_app() -> FastAPI:
    """One worker's app under `users-api serve --workers N`, from the environment `serve` set."""
    app = create_app(create_container(Settings()))
    # As `serve` does for one process: what start-up made stays out of the collector's way, and log
    # records carry nothing that no format prints.
    gc.collect()
    gc.freeze()
    lean_records()
    return app


class CliActions:
    """What the `users-api` commands ask of the composition root: see entrypoints/cli/actions.py."""

    def serve_target(self, **overrides: Any) -> tuple[FastAPI | str, Settings]:
        """The app and the settings it runs with (command-line options over the environment), once
        the database answers and its schema is current; raises StorageUnavailable or ValueError.
        A SQLite file without a schema (a new one) is migrated first: it is a local file of the
        user's own, where PostgreSQL's schema is an operator's to change. With several workers, the
        app is the import string of the factory each worker calls, and the environment the workers
        inherit carries the options and one token secret for all."""
        given = {name: value for name, value in overrides.items() if value is not None}
        settings = Settings(**given)
        if settings.workers > 1 and settings.storage != "postgres":
            raise ValueError(
                "--workers needs a PostgreSQL USERS_DATABASE_URL: in memory each worker would keep users"
                " of its own, and a SQLite file takes one writer at a time"
            )
        if settings.storage == "sqlite" and file_revision(settings.dsn()) is None:
            migrate_file(settings.dsn())
            settings.notes.append(
                f"{describe_file(settings.dsn())} had no schema: made it at the latest revision"
                " (as `users-api migrate` does)"
            )
        if settings.storage != "memory":
            asyncio.run(_check_database(settings))
        if settings.workers == 1:
            return create_app(create_container(settings)), settings
        shared = settings.with_token_secret()
        os.environ.update({f"USERS_{name.upper()}": str(value) for name, value in given.items()})
        os.environ["USERS_TOKEN_SECRET"] = shared.token_key().decode()
        return "bootstrap:build_worker_app", settings

    def migrate(self, revision: str, downgrade: bool) -> str:
        settings = Settings()
        dsn = settings.dsn()
        if settings.storage == "sqlite":
            migrate_file(dsn, revision, downgrade=downgrade)
            return describe_file(dsn)
        asyncio.run(wait_for_database(dsn, settings.start_timeout))
        migrate(dsn, revision, downgrade=downgrade)
        return describe(dsn)

    def create_database(self) -> tuple[str, bool]:
        settings = Settings()
        dsn = settings.dsn()
        if settings.storage == "sqlite":
            return describe_file(dsn), create_file(dsn)
        asyncio.run(wait_for_database(dsn, settings.start_timeout, database=MAINTENANCE_DATABASE))
        return describe(dsn), asyncio.run(create_database(dsn))

    def backup(self, target: str) -> tuple[str, int]:
        settings = Settings()
        if settings.storage != "sqlite":
            raise ValueError(
                "backup copies a SQLite store (USERS_DATABASE_URL=sqlite:///...); use pg_dump for PostgreSQL"
            )
        return describe_file(settings.dsn()), backup(settings.dsn(), target)

    def import_users(
        self, rows: Iterable[Row], *, atomic: bool, batch_size: int, progress: Callable[[int], None]
    ) -> ImportReport:
        async def work(container: Container) -> ImportReport:
            import_users = container.import_users(batch_size=batch_size)
            return await import_users(OPERATOR, rows, atomic=atomic, progress=progress)

        return _on_the_database(work)

    def create_admin(self, username: str, email: str, password: str) -> str:
        async def work(container: Container) -> str:
            draft = {"username": username, "email": email, "password": password, "role": "admin"}
            admin = await container.register_user()(OPERATOR, draft)
            return admin.profile.username

        return _on_the_database(work)


def _on_the_database(work: Callable[[Container], Awaitable[T]]) -> T:
    """Runs `work` on the configured database's store, once it answers and its schema is current.
    Refuses at once without a database: what it stored in memory would vanish with the process."""
    settings = Settings()
    settings.dsn()

    async def run() -> T:
        await _check_database(settings)
        container = create_container(settings)
        # The pool is an async Resource, so these return awaitables; their stubs allow None.
        await container.init_resources()  # type: ignore[misc]
        try:
            return await work(container)
        finally:
            await container.shutdown_resources()  # type: ignore[misc]

    return asyncio.run(run())


async def _check_database(settings: Settings) -> None:
    if settings.storage == "sqlite":
        if problem := file_schema_behind(settings.dsn()):
            raise ValueError(f"{describe_file(settings.dsn())}: {problem}")
        return
    await wait_for_database(settings.dsn(), settings.start_timeout)
    if problem := await schema_behind(settings.dsn()):
        raise ValueError(problem)


def main() -> None:
    """The `users-api` command."""
    build_cli(CliActions())()


if __name__ == "__main__":
    main()
