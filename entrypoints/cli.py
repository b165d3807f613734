"""The `users-api` command. The composition root hands in what each command does (`Operations`),
so this module never imports it."""

from __future__ import annotations

import io
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Annotated, Any, Protocol

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

from domain.errors import StorageUnavailable
from domain.use_cases import ImportReport, Row
from entrypoints.files import Format, rows
from entrypoints.logs import LogFormat, log_config


class ServeSettings(Protocol):
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def log_level(self) -> str: ...
    @property
    def log_format(self) -> LogFormat: ...
    @property
    def storage(self) -> str: ...
    @property
    def shutdown_timeout(self) -> int: ...


class Operations(Protocol):
    def serve_target(self, **overrides: Any) -> tuple[Any, ServeSettings]:
        """The app and its settings, once storage answers; raises StorageUnavailable if it does not."""

    def migrate(self, revision: str, downgrade: bool) -> str:
        """Migrates the configured database; returns which database (without its password)."""

    def create_database(self) -> tuple[str, bool]:
        """Creates the configured database if it is missing; returns which, and whether it did."""

    def import_users(
        self, rows: Iterable[Row], *, atomic: bool, batch_size: int, progress: Callable[[int], None]
    ) -> ImportReport:
        """Registers the rows' users in the configured database."""


class LogLevel(StrEnum):
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


def build_cli(operations: Operations) -> typer.Typer:
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
        """Serve the HTTP API until SIGTERM or Ctrl-C (after waiting USERS_START_TIMEOUT for the database)."""
        with _refusals():
            app, settings = operations.serve_target(host=host, port=port, log_level=log_level)
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
            log_config=log_config(settings.log_level, settings.log_format),
            access_log=False,  # the app writes its own line per request, with the route and request id
            timeout_graceful_shutdown=settings.shutdown_timeout,
            server_header=False,
        )

    @cli.command()
    def migrate(
        revision: Annotated[str, typer.Option(help="Alembic revision to reach")] = "head",
        downgrade: Annotated[bool, typer.Option("--downgrade", help="go down to REVISION")] = False,
    ) -> None:
        """Bring the database named by USERS_DATABASE_URL to a schema revision (default: the latest)."""
        with _refusals():
            database = operations.migrate(revision, downgrade)
        typer.echo(f"users-api: {database} is at revision {revision}")

    @cli.command("create-db")
    def create_db() -> None:
        """Create the database named by USERS_DATABASE_URL if it does not exist."""
        with _refusals():
            database, created = operations.create_database()
        typer.echo(f"users-api: {database} {'created' if created else 'exists already'}")

    @cli.command("import")
    def import_(
        path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
        format: Annotated[Format | None, typer.Option(help="[default: by the file's suffix]")] = None,
        atomic: Annotated[
            bool, typer.Option("--atomic", help="import nothing unless every row is good")
        ] = False,
        batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="rows per COPY")] = 5000,
    ) -> None:
        """Register users from a CSV file (header: username,email[,first_name,last_name]) or an NDJSON
        file, streamed, into USERS_DATABASE_URL. Bad rows are reported by line; exit status 1 if any."""
        started = time.monotonic()
        with _refusals(), path.open("rb") as raw, _progress(path) as advance:
            text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
            report = operations.import_users(
                rows(text, format or Format.of(path)),
                atomic=atomic,
                batch_size=batch_size,
                progress=lambda done: advance(raw.tell(), done),
            )
        for error in report.errors:
            field = f"{error.field}: " if error.field else ""
            typer.echo(f"line {error.line}: {field}{error.message}", err=True)
        seconds = time.monotonic() - started
        rate = report.rows / seconds if seconds else 0
        refused = len({error.line for error in report.errors})
        summary = (
            f"{report.stored:,} of {report.rows:,} rows imported in {seconds:.1f} s ({rate:,.0f} rows/s)"
        )
        if refused:
            summary += f"; {refused:,} refused" + (", so nothing was imported (--atomic)" if atomic else "")
        typer.echo(f"users-api: {summary}")
        if refused:
            raise typer.Exit(1)

    @cli.command()
    def version() -> None:
        """Print the version."""
        typer.echo(metadata.version("users-api"))

    return cli


@contextmanager
def _refusals() -> Iterator[None]:
    """Storage that does not answer, and settings that are wrong: one clear line and status 1.
    Neither message carries a password (see Settings and `describe`)."""
    try:
        yield
    except (StorageUnavailable, ValueError) as error:
        typer.echo(f"users-api: {error}", err=True)
        raise typer.Exit(1) from error


@contextmanager
def _progress(path: Path) -> Iterator[Callable[[int, int], None]]:
    """A progress bar on a terminal (bytes read, rows, rows per second); nothing otherwise."""
    console = Console(stderr=True)
    columns = (*Progress.get_default_columns()[:3], TextColumn("{task.fields[rows]:,} rows"), _RowRate())
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("import", total=path.stat().st_size, rows=0)
        yield lambda position, done: progress.update(task, completed=position, rows=done)


class _RowRate(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0
        return Text(f"{task.fields['rows'] / elapsed:,.0f} rows/s" if elapsed else "")


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)
