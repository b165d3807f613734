"""The `users-api` command: one module per group of commands. The composition root hands in what
they ask of it (`Actions`), so this package never imports it."""

from __future__ import annotations

from importlib import metadata

import typer

from entrypoints.cli.actions import Actions
from entrypoints.cli.admin import create_admin
from entrypoints.cli.database import backup, create_db, migrate
from entrypoints.cli.importing import import_users
from entrypoints.cli.serve import serve


def build_cli(actions: Actions) -> typer.Typer:
    cli = typer.Typer(
        help="users-api: a users service.",
        no_args_is_help=True,
        add_completion=False,
        context_settings={"obj": actions},  # each command finds it as its context's `obj`
    )
    cli.command()(serve)
    cli.command()(migrate)
    cli.command("create-db")(create_db)
    cli.command()(backup)
    cli.command("import")(import_users)
    cli.command("create-admin")(create_admin)
    cli.command()(version)
    return cli


def version() -> None:
    """Print the version."""
    typer.echo(metadata.version("users-api"))


__all__ = ["Actions", "build_cli"]
