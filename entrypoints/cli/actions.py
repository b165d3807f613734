"""What the commands ask of the composition root, which hands it in (this package never imports
bootstrap), and how a command says no."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import typer

from domain.errors import InvalidInput, StorageUnavailable, UserConflict
from domain.use_cases import ImportReport, Row
from entrypoints.logs import LogFormat


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
    @property
    def concurrency_limit(self) -> int: ...
    @property
    def header_timeout(self) -> float: ...
    @property
    def body_timeout(self) -> float: ...
    @property
    def workers(self) -> int: ...
    @property
    def worker_pool_max(self) -> int: ...
    @property
    def forwarded_allow_ips(self) -> list[str]: ...
    def cautions(self) -> list[str]: ...


class Actions(Protocol):
    def serve_target(self, **overrides: Any) -> tuple[Any, ServeSettings]:
        """The app and its settings, once storage answers; raises StorageUnavailable if it does not."""

    def migrate(self, revision: str, downgrade: bool) -> str:
        """Migrates the configured database; returns which database (without its password)."""

    def create_database(self) -> tuple[str, bool]:
        """Creates the configured database if it is missing; returns which, and whether it did."""

    def backup(self, target: str) -> tuple[str, int]:
        """Copies the configured SQLite store to `target`, consistently, while it serves; returns
        which store, and the copy's size in bytes."""

    def import_users(
        self, rows: Iterable[Row], *, atomic: bool, batch_size: int, progress: Callable[[int], None]
    ) -> ImportReport:
        """Registers the rows' users in the configured database."""

    def create_admin(self, username: str, email: str, password: str) -> str:
        """Registers an admin in the configured database; returns their username. Raises
        UserConflict when the username or email is taken, InvalidInput when a field is wrong."""


def actions_of(context: typer.Context) -> Actions:
    actions: Actions = context.obj
    return actions


@contextmanager
def refusals() -> Iterator[None]:
    """Storage that does not answer, and settings that are wrong: one clear line and status 1.
    Neither message carries a password (see Settings and `describe`)."""
    try:
        yield
    except (StorageUnavailable, ValueError) as error:
        typer.echo(f"users-api: {error}", err=True)
        raise typer.Exit(1) from error
    except UserConflict as error:
        taken = " and ".join(dict.fromkeys(conflict.field for conflict in error.conflicts))
        typer.echo(f"users-api: the {taken} is taken by another user", err=True)
        raise typer.Exit(1) from error
    except InvalidInput as error:
        wrong = "; ".join(f"{field.field} {field.message}" for field in error.errors)
        typer.echo(f"users-api: {wrong}", err=True)
        raise typer.Exit(1) from error
