"""`users-api serve`: the HTTP API under uvicorn, until SIGTERM or Ctrl-C."""

from __future__ import annotations

import gc
import signal
from enum import StrEnum
from types import FrameType
from typing import Annotated, Any

import typer
import uvicorn

from entrypoints.cli.actions import actions_of, refusals
from entrypoints.cli.connections import deadlined
from entrypoints.cli.workers import Supervisor, shared_metrics
from entrypoints.logs import lean_records, log_config


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
    workers: Annotated[
        int | None,
        typer.Option(help="Processes serving the port, on PostgreSQL [env USERS_WORKERS, default 1]", min=1),
    ] = None,
) -> None:
    """Serve the HTTP API until SIGTERM or Ctrl-C (after waiting USERS_START_TIMEOUT for the database)."""
    with refusals():
        app, settings = actions_of(context).serve_target(
            host=host, port=port, log_level=log_level, workers=workers
        )
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
    lean_records()
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "log_config": log_config(settings.log_level, settings.log_format),
        "access_log": False,  # the app writes its own line per request, with the route and request id
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        "server_header": False,
        # The client's address and scheme come from X-Forwarded-For/-Proto only when the connection
        # comes from one of these proxies; nobody is believed by default.
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # Bounds what slow or idle clients can hold: connections and requests at once (503 beyond),
        # and how long a request's headers and body may take (see connections.py).
        "limit_concurrency": settings.concurrency_limit,
        "http": deadlined(settings.header_timeout, settings.body_timeout),
    }
    if settings.workers == 1:
        uvicorn.run(app, **options)
        return
    typer.echo(
        f"users-api: {settings.workers} workers, each with a pool of at most {settings.worker_pool_max}"
        f" connections ({settings.workers * settings.worker_pool_max} in all)",
        err=True,
    )
    # Each worker builds its own app, pool and hashing threads from the factory `app` names.
    # A worker that does not answer the supervisor's ping within the health check's time is killed
    # and replaced: on a busy machine, starting Python and importing the app takes seconds.
    config = uvicorn.Config(
        app, workers=settings.workers, factory=True, timeout_worker_healthcheck=30, **options
    )
    with shared_metrics():
        Supervisor(config, sockets=[config.bind_socket()]).run()


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
