"""`users-api create-admin`: the first admin (or another), from the server's console."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from entrypoints.cli.actions import actions_of, refusals


def create_admin(
    context: typer.Context,
    username: Annotated[str, typer.Option(help="the admin's username")],
    email: Annotated[str, typer.Option(help="the admin's email")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Register an admin in USERS_DATABASE_URL. The password is asked on the terminal (twice), or
    read from the first line of standard input with --password-stdin; it is never an argument,
    which other users of the machine could read."""
    if password_stdin:
        password = sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with refusals():
        created = actions_of(context).create_admin(username, email, password)
    typer.echo(f"users-api: created the admin {created}")
