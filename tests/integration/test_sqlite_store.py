"""The SQLite store's two promises: writes queued together commit together, each undone alone when
it fails, each answered after COMMIT; and a read never holds the event loop much past its budget."""

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.sqlite import SqliteStore, SqliteUserRepository, StoreOptions, backup
from domain.errors import StorageUnavailable
from domain.model import Profile, User
from domain.sources import Uuid7Ids
from tests.sqlite import migrated_file, open_store, query

SLOW_READ = (
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000000) SELECT count(*) FROM n"
)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    url = migrated_file(tmp_path)
    query(url, "CREATE TABLE notes (text TEXT NOT NULL)")
    async with open_store(url) as opened:
        yield opened


def note(text: str, *, then_fail: bool = False) -> Callable[[sqlite3.Connection], int]:
    def work(connection: sqlite3.Connection) -> int:
        connection.execute("INSERT INTO notes VALUES (?)", (text,))
        if then_fail:
            raise ValueError(text)
        seen: int = connection.execute("SELECT count(*) FROM notes").fetchall()[0][0]
        return seen

    return work


async def test_writes_queued_together_commit_together_and_a_failing_one_undoes_itself_alone(
    store: SqliteStore,
) -> None:
    release = threading.Event()
    blocker = asyncio.ensure_future(store.write(lambda connection: release.wait(5)))
    await asyncio.sleep(0.05)  # the writer is inside the blocker: the next three queue behind it
    group = [
        asyncio.ensure_future(store.write(note("first"))),
        asyncio.ensure_future(store.write(note("second", then_fail=True))),
        asyncio.ensure_future(store.write(note("third"))),
    ]
    await asyncio.sleep(0.05)
    release.set()
    await blocker
    outcomes = await asyncio.gather(*group, return_exceptions=True)

    assert outcomes[0] == 1
    assert isinstance(outcomes[1], ValueError)
    assert outcomes[2] == 2  # in the same transaction as the first, after the second was undone
    assert query(f"sqlite:///{store.path}", "SELECT text FROM notes ORDER BY rowid") == [
        ("first",),
        ("third",),
    ]


async def test_a_write_is_answered_once_another_connection_can_read_it(store: SqliteStore) -> None:
    for n in range(20):
        await store.write(note(f"note {n}"))
        assert query(f"sqlite:///{store.path}", "SELECT count(*) FROM notes") == [(n + 1,)]


async def test_a_read_past_its_budget_goes_on_in_a_thread_while_the_loop_serves(store: SqliteStore) -> None:
    threads: list[str] = []

    def slow(connection: sqlite3.Connection) -> int:
        threads.append(threading.current_thread().name)
        total: int = connection.execute(SLOW_READ).fetchall()[0][0]
        return total

    gaps: list[float] = []

    async def ticker() -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.005)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    ticking = asyncio.ensure_future(ticker())
    await asyncio.sleep(0.02)
    started = time.perf_counter()
    try:
        assert await store.read(slow) == 3_000_000
    finally:
        elapsed = time.perf_counter() - started
        ticking.cancel()

    assert threads[0] == threading.current_thread().name  # tried on the loop first
    assert threads[1].startswith("sqlite-reader")  # then on a reader thread
    assert len(gaps) >= 5, "the loop ticked while the read ran"
    # A loop held by the read would stall for all of it; a busy machine may pause it for a while.
    assert max(gaps) < max(0.25, elapsed / 2), f"the loop stalled {max(gaps):.2f} s of a {elapsed:.2f} s read"


async def test_a_quick_read_stays_on_the_loop(store: SqliteStore) -> None:
    threads: list[str] = []

    def quick(connection: sqlite3.Connection) -> int:
        threads.append(threading.current_thread().name)
        return int(connection.execute("SELECT count(*) FROM users").fetchall()[0][0])

    assert await store.read(quick) == 0
    assert threads == [threading.current_thread().name]


async def test_a_store_on_a_file_it_cannot_open_is_unavailable(tmp_path: Path) -> None:
    store = SqliteStore(str(tmp_path / "missing" / "users.db"), StoreOptions())
    with pytest.raises(StorageUnavailable):
        store.open()


async def test_a_write_queued_behind_a_long_one_may_still_give_up_and_then_never_runs(tmp_path: Path) -> None:
    """Writes taken up together are begun one at a time: one behind a long write (an import) is
    not held past its own limit, and, given up, does not run when the long one is done."""
    url = migrated_file(tmp_path)
    query(url, "CREATE TABLE notes (text TEXT NOT NULL)")
    ran: list[str] = []

    def slow(name: str, seconds: float) -> Callable[[sqlite3.Connection], None]:
        def work(connection: sqlite3.Connection) -> None:
            time.sleep(seconds)  # the writer thread is busy: what a long import does
            ran.append(name)

        return work

    async with open_store(url, StoreOptions(write_timeout=0.3)) as store:
        busy = asyncio.ensure_future(store.write(slow("busy", 0.2), unbounded=True))
        await asyncio.sleep(0.05)  # the writer is in `busy`; the next two are queued together
        long = asyncio.ensure_future(store.write(slow("long", 1.5), unbounded=True))
        await asyncio.sleep(0.01)  # queued first
        started = time.monotonic()
        with pytest.raises(StorageUnavailable):
            await store.write(slow("short", 0))
        waited = time.monotonic() - started
        await asyncio.gather(busy, long)

    assert waited < 1.2, f"{waited:.2f} s: held behind the long write"
    assert ran == ["busy", "long"]


async def test_a_queued_write_whose_request_is_cut_never_runs(tmp_path: Path) -> None:
    url = migrated_file(tmp_path)
    ran: list[str] = []
    async with open_store(url) as store:
        busy = asyncio.ensure_future(store.write(lambda connection: time.sleep(0.3), unbounded=True))
        await asyncio.sleep(0.05)
        cut = asyncio.ensure_future(store.write(lambda connection: ran.append("cut")))
        await asyncio.sleep(0.05)
        cut.cancel()  # as a shutdown cuts a request
        await asyncio.gather(busy, cut, return_exceptions=True)
        await store.write(lambda connection: ran.append("next"))

    assert ran == ["next"]


async def test_a_bulk_takes_the_writer_only_once_its_first_batch_is_made(tmp_path: Path) -> None:
    """While a bulk's first batch is still being made (its passwords hashed), other writes go on."""
    url = migrated_file(tmp_path)
    query(url, "CREATE TABLE notes (text TEXT NOT NULL)")
    now = datetime.now(UTC)
    ids = Uuid7Ids()

    async def batches() -> AsyncIterator[list[User]]:
        await asyncio.sleep(1.0)  # hashing
        yield [User(ids(), Profile.parse({"username": "ada", "email": "ada@example.com"}), now, now)]

    async with open_store(url, StoreOptions(write_timeout=0.3)) as store:
        bulk = asyncio.ensure_future(SqliteUserRepository(store).add_all(batches()))
        await asyncio.sleep(0.05)
        assert await store.write(note("meanwhile")) == 1  # not kept waiting for the bulk
        assert await bulk == 1

    assert query(url, "SELECT username FROM users") == [("ada",)]


def test_a_backup_onto_a_file_that_is_being_served_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    url = migrated_file(tmp_path)
    target = tmp_path / "copy.db"
    (tmp_path / "copy.db-wal").write_bytes(b"an old log that SQLite would replay onto the copy")

    with pytest.raises(StorageUnavailable, match=r"copy\.db-wal exists"):
        backup(url, str(target))

    assert sorted(path.name for path in tmp_path.iterdir()) == ["copy.db-wal", "users.db"]
