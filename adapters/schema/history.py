"""The schema's history as Alembic keeps it, for every SQL store: where the revisions are, and
whether a store's revision can serve this code."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(dsn: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["dsn"] = dsn
    return config


def head() -> str:
    script = ScriptDirectory.from_config(alembic_config(""))
    return script.get_current_head() or "base"


def why_behind(current: str | None) -> str | None:
    """Why a store at revision `current` (None: no schema) cannot serve this code, or None when it
    can. A revision this code does not know is newer, from a later release: that one serves."""
    script = ScriptDirectory.from_config(alembic_config(""))
    latest = script.get_current_head()
    known = {revision.revision for revision in script.walk_revisions()}
    if current is None:
        return f"the database has no schema yet (run `users-api migrate`; this code needs {latest})"
    if current != latest and current in known:
        return f"the schema is at {current}, this code needs {latest} (run `users-api migrate`)"
    return None
