"""The `users-api` command. The composition root hands in how to build the app, so this module
never imports it."""

from __future__ import annotations

import signal
from collections.abc import Callable
from enum import StrEnum
from importlib import metadata
from types import FrameType
from typing import Annotated, Any, Protocol

import typer
import uvicorn


class ServeSettings(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def log_level(self) -> str: ...
    @property
    def storage(self) -> str: ...
    @property
    def shutdown_timeout(self) -> int: ...


class LogLevel(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


def build_cli(serve_target: Callable[..., tuple[Any, ServeSettings]]) -> typer.Typer:
    cli = typer.Typer(help="users-api: a users service.", no_args_is_help=True, add_completion=False)

    @cli.command()
    def serve(
        host: Annotated[
            str | None, typer.Option(help="Address to bind [env USERS_HOST, default 127.0.0.1]")
        ] = None,
        port: Annotated[
            int | None, typer.Option(help="Port [env USERS_PORT, default 8000]", min=0, max=65535)
        ] = None,
        log_level: Annotated[
            LogLevel | None, typer.Option(help="[env USERS_LOG_LEVEL, default info]")
        ] = None,
    ) -> None:
        """Serve the HTTP API until SIGTERM or Ctrl-C."""
        app, settings = serve_target(host=host, port=port, log_level=log_level)
        base = f"http://{settings.host}:{settings.port}"
        typer.echo(f"users-api: API at {base}/api/v1/users, docs at {base}/docs, storage: {settings.storage}")
        # Uvicorn drains requests on SIGTERM, then restores this handler and raises the signal again:
        # a graceful stop then ends with status 0 instead of death by signal.
        signal.signal(signal.SIGTERM, _exit_cleanly)
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            timeout_graceful_shutdown=settings.shutdown_timeout,
            server_header=False,
        )

    @cli.command()
    def version() -> None:
        """Print the version."""
        typer.echo(metadata.version("users-api"))

    return cli


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
