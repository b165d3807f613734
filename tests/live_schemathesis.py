"""Schemathesis' command line against a live `users-api serve` on PostgreSQL, as a client would fuzz
it: `make fuzz-live` (FUZZ_EXAMPLES per operation, default 250: about two minutes here). It makes a
database, serves on it, runs `schemathesis run` with every check and phase (the repository's
schemathesis.toml tells it what no schema can), prints its summary, then stops the server and drops
the database. An example budget, not `--max-time`: a time box cuts each operation's fuzzing into
rounds of a few cases, and a round whose few valid cases were all rightly refused (a stale
If-Match, made-up credentials) is reported as "mostly rejected".

This module is also the hooks the run loads (SCHEMATHESIS_HOOKS). Every request is an admin's: an
admin may remove, demote or re-password itself, and generated requests do, so before each request
the admin of the run is made whole again (created, promoted, its password reset) by the service's
own use cases on the same database, and its token is signed with the server's secret.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

import schemathesis

from bootstrap import Settings, create_container
from domain.access import OPERATOR
from domain.model import Role, User
from tests.e2e.service import Service, environment
from tests.postgres import drop_test_database, migrated_test_database

ROOT = Path(__file__).resolve().parent.parent
# The run's admin, and the credentials schemathesis.toml gives the token endpoint's valid cases.
ADMIN = {"username": "fuzzer", "email": "fuzzer@example.com", "password": "the fuzzing admin's password"}


class _Keeper:
    """The run's admin, kept whole on a loop of its own (the hooks are called synchronously)."""

    def __init__(self, settings: Settings) -> None:
        self._loop = asyncio.new_event_loop()
        threading.Thread(target=self._loop.run_forever, daemon=True).start()
        self._container = create_container(settings)
        self._admin: User | None = None  # as last made whole

    def token(self) -> str:
        return asyncio.run_coroutine_threadsafe(self._whole(), self._loop).result(timeout=60)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result(timeout=30)

    async def _close(self) -> None:
        if self._admin is not None:
            await self._container.shutdown_resources()  # type: ignore[misc]

    def admin_id(self) -> str:
        self.token()
        assert self._admin is not None
        return str(self._admin.id)

    async def _whole(self) -> str:
        container = self._container
        if self._admin is None:
            await container.init_resources()  # type: ignore[misc]
            found = await container.repository().find_by_login(ADMIN["username"])  # made by the runner
            self._admin = found or await container.register_user()(OPERATOR, {**ADMIN, "role": Role.ADMIN})
        stored = await container.repository().get(self._admin.id)
        if stored is None:  # removed by another admin the run made: a new one, under a new name
            suffix = secrets.token_hex(4)
            draft = {**ADMIN, "username": f"fuzzer{suffix}", "email": f"fuzzer{suffix}@example.com"}
            stored = await container.register_user()(OPERATOR, {**draft, "role": Role.ADMIN})
        elif stored.role is not Role.ADMIN or stored.password_hash != self._admin.password_hash:
            # Demoted, or its password changed: its tokens are revoked; promoted and reset, it has one.
            changes = {"role": Role.ADMIN, "password": ADMIN["password"]}
            stored = await container.change_user()(OPERATOR, stored.id, changes)
        self._admin = stored
        return container.tokens().issue(stored).value


_keeper: _Keeper | None = None


@schemathesis.auth(refresh_interval=None)
class AsTheRunsAdmin:
    def get(self, case: schemathesis.Case[Any], context: schemathesis.AuthContext) -> str:
        global _keeper
        _keeper = _keeper or _Keeper(Settings(_env_file=None))  # the server's own settings
        return _keeper.token()

    def set(self, case: schemathesis.Case[Any], token: str, context: schemathesis.AuthContext) -> None:
        case.headers["Authorization"] = f"Bearer {token}"


# What only this run knows: its admin (some requests name it, as a client's name users that exist,
# and some logins are its own, as a client's are), added to the repository's schemathesis.toml.
_RUN_CONFIG = """
[parameters]
"path.user_id" = {{ dictionary = "the-runs-admin", probability = 0.3 }}
"body.username" = {{ dictionary = "the-runs-admin-name", probability = 0.5 }}
"body.password" = {{ dictionary = "the-runs-admin-password", probability = 1.0 }}

[dictionaries.the-runs-admin]
values = ["{FUZZ_ADMIN_ID}"]

[dictionaries.the-runs-admin-name]
values = ["{FUZZ_ADMIN_NAME}"]

[dictionaries.the-runs-admin-password]
values = ["{FUZZ_ADMIN_PASSWORD}"]
"""


def main(examples: int) -> int:
    url = migrated_test_database()
    settings = {"database_url": url, "token_secret": secrets.token_urlsafe(32), "log_level": "warning"}
    workdir = Path(tempfile.mkdtemp(prefix="fuzz-live-"))
    service = Service.start(workdir, environment(**settings))
    try:
        env = environment(**settings)
        keeper = _Keeper(Settings(_env_file=None, database_url=url, token_secret=settings["token_secret"]))
        env |= {
            "SCHEMATHESIS_HOOKS": "tests.live_schemathesis",
            "PYTHONPATH": str(ROOT),
            "FUZZ_ADMIN_ID": keeper.admin_id(),
            "FUZZ_ADMIN_NAME": ADMIN["username"],
            "FUZZ_ADMIN_PASSWORD": ADMIN["password"],
        }
        config = workdir / "schemathesis.toml"
        config.write_text((ROOT / "schemathesis.toml").read_text() + _RUN_CONFIG.format(**env))
        command = [
            str(Path(sys.executable).with_name("schemathesis")),
            "--config-file", str(config),
            "run", f"{service.base}/openapi.json",
            "--checks", "all",
            "--phases", "examples,coverage,fuzzing,stateful",
            "--max-examples", str(examples),
        ]  # fmt: skip
        try:
            return subprocess.run(command, env=env, cwd=workdir, check=False).returncode
        finally:
            keeper.close()
    finally:
        service.kill()
        drop_test_database(url)


if __name__ == "__main__":
    sys.exit(main(int(os.environ.get("FUZZ_EXAMPLES", "250"))))
