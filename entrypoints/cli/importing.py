"""`users-api import FILE`: users from a CSV or NDJSON file, streamed, with a progress bar on a terminal."""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import Progress, ProgressColumn, Task, TextColumn
from rich.text import Text

from entrypoints.cli.actions import actions_of, refusals
from entrypoints.files import Format, rows


def import_users(
    context: typer.Context,
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    format: Annotated[Format | None, typer.Option(help="[default: by the file's suffix]")] = None,
    atomic: Annotated[bool, typer.Option("--atomic", help="import nothing unless every row is good")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=100_000, help="rows per COPY")] = 5000,
) -> None:
    """Register users from a CSV file (header: username,email[,first_name,last_name]) or an NDJSON
    file, streamed, into USERS_DATABASE_URL. Bad rows are reported by line; exit status 1 if any."""
    started = time.monotonic()
    with refusals(), path.open("rb") as raw, _progress(path) as advance:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        report = actions_of(context).import_users(
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
    summary = f"{report.stored:,} of {report.rows:,} rows imported in {seconds:.1f} s ({rate:,.0f} rows/s)"
    if refused:
        summary += f"; {refused:,} refused" + (", so nothing was imported (--atomic)" if atomic else "")
    typer.echo(f"users-api: {summary}")
    if refused:
        raise typer.Exit(1)


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
