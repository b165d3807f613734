"""`users-api migrate` and `users-api create-db`: what an operator does to a database before serving."""

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


def create_db(context: typer.Context) -> None:
    """Create the database named by USERS_DATABASE_URL if it does not exist."""
    with refusals():
        database, created = actions_of(context).create_database()
    typer.echo(f"users-api: {database} {'created' if created else 'exists already'}")
