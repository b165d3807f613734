"""The default store, a SQLite file, as a user runs it: what is created survives a restart and a
kill -9 (every acknowledged create, in a file that passes its integrity check), `users-api backup`
copies it while it serves, and the copy serves in its place."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.service import Service, environment, users_api

pytestmark = pytest.mark.e2e

API = "/api/v1/users"


def stored_ids(path: Path) -> set[str]:
    """The ids in the file, read as a new process would (recovering the WAL a killed one left)."""
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return {row[0] for row in connection.execute("SELECT id FROM users")}
    finally:
        connection.close()


class Creates:
    """Threads that create users one after another until stopped, keeping what was acknowledged."""

    def __init__(self, base: str, headers: dict[str, str], threads: int = 8) -> None:
        self.acknowledged: dict[str, str] = {}  # id (hex) -> username
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._create, args=(base, headers, n), daemon=True)
            for n in range(threads)
        ]

    def __enter__(self) -> Creates:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _create(self, base: str, headers: dict[str, str], thread: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            for n in range(100_000):
                if self._stop.is_set():
                    return
                username = f"t{thread}n{n}"
                try:
                    answer = client.post(API, json={"username": username, "email": f"{username}@example.com"})
                except httpx.TransportError:
                    return  # the server is gone: this create was never acknowledged
                with self._lock:
                    if answer.status_code == 201:
                        self.acknowledged[answer.json()["id"].replace("-", "")] = username
                    else:
                        self.failures.append(f"{answer.status_code} {answer.text}")

    def wait_for(self, count: int, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while len(self.acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(self.acknowledged) >= count, f"{len(self.acknowledged)} creates in {within} s"


def test_what_is_created_survives_a_restart(tmp_path: Path) -> None:
    first = Service.start(tmp_path, environment())
    try:
        created = httpx.post(
            first.base + API, json={"username": "ada", "email": "ada@example.com"}, headers=first.login()
        )
        assert created.status_code == 201, created.text
        first.terminate()
        assert first.wait(timeout=15) == 0
    finally:
        first.kill()
    assert "users.db had no schema: made it at the latest revision" in first.output()

    second = Service.start(tmp_path, environment())
    try:
        again = httpx.get(second.base + created.headers["location"], headers=second.login())
        assert (again.status_code, again.json()) == (200, created.json())
        assert "had no schema" not in second.output()
    finally:
        second.kill()


def test_kill_9_during_a_stream_of_creates_loses_no_acknowledged_create(tmp_path: Path) -> None:
    service = Service.start(tmp_path, environment())
    try:
        with Creates(service.base, service.login()) as creates:
            creates.wait_for(300)
            service.process.kill()  # SIGKILL, mid-stream
            service.process.wait()
        acknowledged = dict(creates.acknowledged)
    finally:
        service.kill()

    assert creates.failures == []
    stored = stored_ids(tmp_path / "users.db")
    missing = set(acknowledged) - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged creates lost"

    restarted = Service.start(tmp_path, environment())
    try:
        total = httpx.get(
            restarted.base + API, params={"include_total": "true", "limit": 1}, headers=restarted.login()
        ).json()["total"]
        assert total == len(stored)  # the admin and every create stored, acknowledged or not
    finally:
        restarted.kill()


def test_backup_copies_the_file_while_it_serves_and_the_copy_serves_in_its_place(tmp_path: Path) -> None:
    service = Service.start(tmp_path, environment())
    try:
        with Creates(service.base, service.login(), threads=4) as creates:
            creates.wait_for(200)
            before = set(creates.acknowledged)
            backup = users_api("backup", "copy.db", cwd=tmp_path, env=environment())
            creates.wait_for(len(before) + 100)  # writes went on through the copy
        assert creates.failures == []
    finally:
        service.kill()

    assert backup.returncode == 0, backup.stderr
    assert backup.stdout.startswith("users-api: copied SQLite file users.db to copy.db (")
    assert not (tmp_path / "copy.db.partial").exists()
    copied = stored_ids(tmp_path / "copy.db")
    assert before <= copied, "everything acknowledged before the backup began is in the copy"
    assert copied <= stored_ids(tmp_path / "users.db")

    # Restoring is serving the copy (or moving it into the original's place while nothing serves).
    restored = Service.start(tmp_path, environment(database_url="sqlite:///copy.db"))
    try:
        some = next(iter(before))
        user_id = f"{some[:8]}-{some[8:12]}-{some[12:16]}-{some[16:20]}-{some[20:]}"
        answer = httpx.get(f"{restored.base}{API}/{user_id}", headers=restored.login())
        assert (answer.status_code, answer.json()["username"]) == (200, creates.acknowledged[some])
    finally:
        restored.kill()
