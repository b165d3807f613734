"""The composition root: settings, and the container that wires adapters into use cases.

Nothing is built at import time; `create_container()` and `create_app()` build on demand.
"""

from __future__ import annotations

from typing import Any, Literal

from dependency_injector import containers, providers
from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.memory import InMemoryUserRepository
from domain.sources import Uuid7Ids, utc_now
from domain.use_cases import ChangeUser, GetUser, ListUsers, RegisterUser, RegisterUsers, RemoveUser
from entrypoints.cli import build_cli
from entrypoints.http import create_app


class Settings(BaseSettings):
    """Read from `USERS_*` environment variables and an optional `.env` file."""

    model_config = SettingsConfigDict(env_prefix="USERS_", env_file=".env", extra="ignore")

    storage: Literal["memory"] = "memory"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    ready_timeout: float = Field(default=1.0, gt=0, description="seconds /health/ready waits for storage")
    shutdown_timeout: int = Field(default=10, gt=0, description="seconds in-flight requests get at stop")


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    ready_timeout = settings.provided.ready_timeout

    clock = providers.Object(utc_now)
    new_id = providers.Singleton(Uuid7Ids)
    repository = providers.Selector(
        settings.provided.storage,
        memory=providers.Singleton(InMemoryUserRepository),
    )

    register_user = providers.Factory(RegisterUser, users=repository, clock=clock, new_id=new_id)
    register_users = providers.Factory(RegisterUsers, users=repository, clock=clock, new_id=new_id)
    get_user = providers.Factory(GetUser, users=repository)
    list_users = providers.Factory(ListUsers, users=repository)
    change_user = providers.Factory(ChangeUser, users=repository, clock=clock)
    remove_user = providers.Factory(RemoveUser, users=repository)


def create_container(settings: Settings | None = None) -> Container:
    return Container(settings=settings or Settings())


def build_app() -> FastAPI:
    """The app from the environment's settings, for `uvicorn --factory bootstrap:build_app`."""
    return create_app(create_container())


def serve_target(**overrides: Any) -> tuple[FastAPI, Settings]:
    """The app and the settings it runs with, command-line options over the environment."""
    settings = Settings(**{name: value for name, value in overrides.items() if value is not None})
    return create_app(create_container(settings)), settings


def main() -> None:
    """The `users-api` command."""
    build_cli(serve_target)()


if __name__ == "__main__":
    main()
