"""The composition root: settings, and the container that wires adapters into use cases.

Nothing is built at import time; `create_container()` and `create_app()` build on demand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, Self

from dependency_injector import containers, providers
from fastapi import FastAPI
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from adapters.memory import InMemoryUserRepository
from adapters.postgres import (
    PoolOptions,
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
from domain.sources import Uuid7Ids, utc_now
from domain.use_cases import (
    ChangeUser,
    GetUser,
    ImportReport,
    ImportUsers,
    ListUsers,
    RegisterUser,
    RegisterUsers,
    RemoveUser,
    Row,
)
from entrypoints.cli import build_cli
from entrypoints.http import create_app
from entrypoints.http.metrics import Metrics
from entrypoints.logs import LogFormat


class Settings(BaseSettings):
    """Read from `USERS_*` environment variables and an optional `.env` file."""

    # No error ever repeats a value it was given: the database URL holds a password.
    model_config = SettingsConfigDict(
        env_prefix="USERS_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    database_url: SecretStr | None = Field(
        default=None, description="postgresql://user:password@host:port/name; unset: users are kept in memory"
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
    start_timeout: float = Field(default=10.0, ge=0, description="seconds `serve` waits for the database")
    pool_min_size: int = Field(default=2, ge=0)
    pool_max_size: int = Field(default=10, ge=1)
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

    @field_validator("database_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, url: Any) -> Any:
        # `USERS_DATABASE_URL=` is how compose files and CI systems often say "not set".
        return None if isinstance(url, str) and not url.strip() else url

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None and not url.get_secret_value().startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return url

    @field_validator("trusted_hosts", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return (
            [part.strip() for part in value.split(",") if part.strip()] if isinstance(value, str) else value
        )

    @model_validator(mode="after")
    def _pool_sizes(self) -> Self:
        if self.pool_min_size > self.pool_max_size:
            raise ValueError("pool_min_size must not exceed pool_max_size")
        return self

    @property
    def storage(self) -> Literal["memory", "postgres"]:
        return "memory" if self.database_url is None else "postgres"

    def dsn(self) -> str:
        """The database URL in clear, for the driver alone."""
        if self.database_url is None:
            raise ValueError("USERS_DATABASE_URL is not set")
        return self.database_url.get_secret_value()

    def pool_options(self) -> PoolOptions:
        return PoolOptions(
            min_size=self.pool_min_size,
            max_size=self.pool_max_size,
            connect_timeout=self.connect_timeout,
            command_timeout=self.command_timeout,
            statement_timeout=self.statement_timeout,
            close_timeout=self.pool_close_timeout,
            application_name=self.application_name,
            prepared_statements=not self.pgbouncer,
        )


class MemoryStorage(containers.DeclarativeContainer):
    repository = providers.Singleton(InMemoryUserRepository)
    pool_usage: providers.Object[None] = providers.Object(None)  # no pool, no pool metrics


class PostgresStorage(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    # Made and connected by the app's lifespan (inside the running loop), closed at shutdown within a
    # time limit. The repository depends on the pool, not on the Resource, so it stays synchronous.
    pool = providers.Singleton(new_pool, settings.provided.dsn.call(), settings.provided.pool_options.call())
    pool_life = providers.Resource(run_pool, pool, settings.provided.pool_close_timeout)
    repository = providers.Singleton(
        PostgresUserRepository, pool, acquire_timeout=settings.provided.pool_acquire_timeout
    )
    pool_usage = providers.Factory(usage, pool)  # read afresh at every scrape


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    ready_timeout = settings.provided.ready_timeout
    trusted_hosts = settings.provided.trusted_hosts
    cors_origins = settings.provided.cors_origins
    storage = providers.DependenciesContainer()  # MemoryStorage or PostgresStorage: see create_container

    clock = providers.Object(utc_now)
    new_id = providers.Singleton(Uuid7Ids)
    repository = storage.repository
    metrics = providers.Singleton(Metrics, pool_usage=storage.pool_usage.provider)

    register_user = providers.Factory(RegisterUser, users=repository, clock=clock, new_id=new_id)
    register_users = providers.Factory(RegisterUsers, users=repository, clock=clock, new_id=new_id)
    get_user = providers.Factory(GetUser, users=repository)
    list_users = providers.Factory(ListUsers, users=repository)
    change_user = providers.Factory(ChangeUser, users=repository, clock=clock)
    remove_user = providers.Factory(RemoveUser, users=repository)
    import_users = providers.Factory(ImportUsers, users=repository, clock=clock, new_id=new_id)


def create_container(settings: Settings | None = None) -> Container:
    """PostgreSQL when a database URL is set, else memory. Only the chosen storage is ever built,
    so the lifespan opens a pool only when there is a database to open it on."""
    settings = settings or Settings()
    storage = MemoryStorage() if settings.database_url is None else PostgresStorage(settings=settings)
    return Container(settings=settings, storage=storage)


def build_app() -> FastAPI:
    """The app from the environment's settings, for `uvicorn --factory bootstrap:build_app`."""
    return create_app(create_container())


class CliActions:
    """What the `users-api` commands ask of the composition root: see entrypoints/cli/actions.py."""

    def serve_target(self, **overrides: Any) -> tuple[FastAPI, Settings]:
        """The app and the settings it runs with (command-line options over the environment), once
        the database answers and its schema is current; raises StorageUnavailable or ValueError."""
        settings = Settings(**{name: value for name, value in overrides.items() if value is not None})
        if settings.database_url is not None:
            asyncio.run(_check_database(settings))
        return create_app(create_container(settings)), settings

    def migrate(self, revision: str, downgrade: bool) -> str:
        settings = Settings()
        dsn = settings.dsn()
        asyncio.run(wait_for_database(dsn, settings.start_timeout))
        migrate(dsn, revision, downgrade=downgrade)
        return describe(dsn)

    def create_database(self) -> tuple[str, bool]:
        settings = Settings()
        dsn = settings.dsn()
        asyncio.run(wait_for_database(dsn, settings.start_timeout, database=MAINTENANCE_DATABASE))
        return describe(dsn), asyncio.run(create_database(dsn))

    def import_users(
        self, rows: Iterable[Row], *, atomic: bool, batch_size: int, progress: Callable[[int], None]
    ) -> ImportReport:
        settings = Settings()
        settings.dsn()  # refuses at once without a database: an import into memory would vanish
        return asyncio.run(_import(settings, rows, atomic=atomic, batch_size=batch_size, progress=progress))


async def _import(
    settings: Settings, rows: Iterable[Row], *, atomic: bool, batch_size: int, progress: Callable[[int], None]
) -> ImportReport:
    await _check_database(settings)
    container = create_container(settings)
    # The pool is an async Resource, so these return awaitables; their stubs allow None.
    await container.init_resources()  # type: ignore[misc]
    try:
        import_users = container.import_users(batch_size=batch_size)
        return await import_users(rows, atomic=atomic, progress=progress)
    finally:
        await container.shutdown_resources()  # type: ignore[misc]


async def _check_database(settings: Settings) -> None:
    await wait_for_database(settings.dsn(), settings.start_timeout)
    if problem := await schema_behind(settings.dsn()):
        raise ValueError(problem)


def main() -> None:
    """The `users-api` command."""
    build_cli(CliActions())()


if __name__ == "__main__":
    main()
