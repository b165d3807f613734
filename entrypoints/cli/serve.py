"""`users-api serve`: the HTTP API under uvicorn, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import gc
import signal
from enum import StrEnum
from types import FrameType
from typing import Annotated

import typer
import uvicorn

from entrypoints.cli.actions import actions_of, refusals
from entrypoints.cli.connections import deadlined
from entrypoints.logs import log_config


class LogLevel(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


def serve(
    context: typer.Context,
    host: Annotated[
        str | None, typer.Option(help="Address to bind [env USERS_HOST, default 127.0.0.1]")
    ] = None,
    port: Annotated[
        int | None, typer.Option(help="Port [env USERS_PORT, default 8000]", min=0, max=65535)
    ] = None,
    log_level: Annotated[LogLevel | None, typer.Option(help="[env USERS_LOG_LEVEL, default info]")] = None,
) -> None:
    """Serve the HTTP API until SIGTERM or Ctrl-C (after waiting USERS_START_TIMEOUT for the database)."""
    with refusals():
        app, settings = actions_of(context).serve_target(host=host, port=port, log_level=log_level)
    for caution in settings.cautions():
        typer.echo(f"users-api: {caution}", err=True)
    base = f"http://{settings.host}:{settings.port}"
    typer.echo(f"users-api: API at {base}/api/v1/users, docs at {base}/docs, storage: {settings.storage}")
    # Uvicorn drains requests on SIGTERM, then restores this handler and raises the signal again:
    # a graceful stop then ends with status 0 instead of death by signal.
    signal.signal(signal.SIGTERM, _exit_cleanly)
    # What start-up made lives as long as the process: out of the collector's way, so that each
    # collection under load walks only what requests make (measured: tens of microseconds a request).
    gc.collect()
    gc.freeze()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=log_config(settings.log_level, settings.log_format),
        access_log=False,  # the app writes its own line per request, with the route and request id
        timeout_graceful_shutdown=settings.shutdown_timeout,
        server_header=False,
        # Bounds what slow or idle clients can hold: connections and requests at once (503 beyond),
        # and how long a request's headers and body may take (see connections.py).
        limit_concurrency=settings.concurrency_limit,
        http=deadlined(settings.header_timeout, settings.body_timeout),
    )


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
