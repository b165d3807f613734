"""`users-api migrate`, `create-db` and `backup`: what an operator does to a database besides serving."""

from __future__ import annotations

from typing import Annotated

import typer

from entrypoints.cli.actions import actions_of, refusals


def migrate(
    context: typer.Context,
    revision: Annotated[str, typer.Option(help="Alembic revision to reach")] = "head",
    downgrade: Annotated[bool, typer.Option("--downgrade", help="go down to REVISION")] = False,
) -> None:
    """Bring the database named by USERS_DATABASE_URL to a schema revision (default: the latest)."""
    with refusals():
        database = actions_of(context).migrate(revision, downgrade)
    typer.echo(f"users-api: {database} is at revision {revision}")


def backup(
    context: typer.Context,
    file: Annotated[str, typer.Argument(help="where the copy goes (replaced if it exists)")],
) -> None:
    """Copy the SQLite store named by USERS_DATABASE_URL to FILE, consistently, while it serves."""
    with refusals():
        database, size = actions_of(context).backup(file)
    typer.echo(f"users-api: copied {database} to {file} ({size:,} bytes)")


def create_db(context: typer.Context) -> None:
    """Create the database named by USERS_DATABASE_URL if it does not exist (a SQLite file: empty)."""
    with refusals():
        database, created = actions_of(context).create_database()
    typer.echo(f"users-api: {database} {'created' if created else 'exists already'}")
