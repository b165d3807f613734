"""One SQLite file and the connections a process keeps to it (stdlib sqlite3, chosen by measurement:
see bench/sqlite_drivers.py).

Writes: one thread owns the write connection. It takes every write queued at that moment and runs
them in one transaction (group commit), each in a SAVEPOINT of its own so that one failing undoes
itself alone; each is acknowledged only after the COMMIT. A write still waiting for its turn (the
file's lock included) at its time limit is StorageUnavailable and never runs; one already begun is
waited for.

Reads: on the event loop, on a connection of their own, under a small time budget: the progress
handler aborts a read that runs past it, which then runs again on a reader thread. A read by key
costs no thread hop, and a scan never stalls the loop for longer than the budget.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from adapters.sqlite.errors import is_retryable_read, storage_errors, unavailable
from domain.errors import StorageUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
Work = Callable[[sqlite3.Connection], T]

_GROUP_MAX = 256  # writes committed together at most
_CHECK_EVERY = 400  # virtual machine steps between two looks at the read budget


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreOptions:
    write_timeout: float = 2.0  # seconds a write waits for its turn (the file's lock included)
    read_budget: float = 0.002  # seconds a read may hold the event loop before it moves to a thread
    readers: int = 2  # reader threads, for reads over the budget
    synchronous: str = "FULL"  # the WAL is synced at every commit: a commit survives power loss


def connect(path: str, *, busy_timeout: float, check_same_thread: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
    connection = sqlite3.connect(
        path, isolation_level=None, check_same_thread=check_same_thread, cached_statements=64
    )
    connection.execute(f"PRAGMA busy_timeout = {round(busy_timeout * 1000)}")
    connection.execute("PRAGMA foreign_keys = ON")
    if connection.execute("PRAGMA journal_mode").fetchall()[0][0] != "wal":
        connection.execute("PRAGMA journal_mode = WAL")
    return connection


class _Job:
    """A queued write. Its caller may give up on it only until the writer takes it up: a write that
    has begun is waited for, so that a StorageUnavailable for waiting too long means never written."""

    __slots__ = ("_lock", "_state", "future", "loop", "work")

    def __init__(self, work: Work[Any], future: asyncio.Future[Any], loop: asyncio.AbstractEventLoop) -> None:
        self.work, self.future, self.loop = work, future, loop
        self._lock, self._state = threading.Lock(), "queued"

    def begin(self) -> bool:
        """The writer takes it up, unless its caller has given up on it."""
        with self._lock:
            if self._state == "queued":
                self._state = "begun"
            return self._state == "begun"

    def give_up(self) -> bool:
        """The caller gives up on it, unless the writer has taken it up."""
        with self._lock:
            if self._state == "queued":
                self._state = "given up"
            return self._state == "given up"

    def settle(self, result: Any, error: BaseException | None) -> None:
        try:
            self.loop.call_soon_threadsafe(_settle, self.future, result, error)
        except RuntimeError:  # its loop has closed (the app stopped): no one waits for the answer
            log.debug("a write's loop closed before its answer")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # its caller has gone
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class SqliteStore:
    def __init__(self, path: str, options: StoreOptions | None = None) -> None:
        self.path, self.options = path, options or StoreOptions()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._reader: sqlite3.Connection | None = None
        self._readers = ThreadPoolExecutor(self.options.readers, thread_name_prefix="sqlite-reader")
        self._thread_readers = threading.local()
        self._all_readers: list[sqlite3.Connection] = []
        self._deadline = 0.0

    def open(self) -> None:
        with storage_errors():
            reader = connect(self.path, busy_timeout=0, check_same_thread=False)
        reader.set_progress_handler(self._over_budget, _CHECK_EVERY)
        self._reader = reader
        opened = threading.Event()
        failure: list[BaseException] = []
        self._writer = threading.Thread(
            target=self._write_loop, args=(opened, failure), name="sqlite-writer", daemon=True
        )
        self._writer.start()
        opened.wait()
        if failure:
            raise failure[0]

    def close(self, timeout: float = 5.0) -> None:
        if self._writer is not None:
            self._jobs.put(None)
            self._writer.join(timeout)
            if self._writer.is_alive():
                log.warning("the SQLite writer did not finish within %s s", timeout)
        self._readers.shutdown(wait=True)
        for connection in [*self._all_readers, *([self._reader] if self._reader else [])]:
            connection.close()

    async def read(self, work: Work[T]) -> T:
        """`work` on the loop's read connection, or on a reader thread once past the budget."""
        reader = self._reader
        if reader is None:
            raise StorageUnavailable("the SQLite store is not open")
        self._deadline = time.perf_counter() + self.options.read_budget
        try:
            return work(reader)
        except sqlite3.Error as error:
            if not is_retryable_read(error):
                raise unavailable(error) from error
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._read_in_thread, work)

    async def write(self, work: Work[T], *, unbounded: bool = False) -> T:
        """`work` in the writer's next transaction; its result once that has committed. Waits the
        store's write timeout, or without limit when `unbounded` (an import)."""
        limit = None if unbounded else self.options.write_timeout
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._writer is None or not self._writer.is_alive():
            raise StorageUnavailable("the SQLite writer is not running")
        job = _Job(work, future, loop)
        self._jobs.put(job)
        try:
            await asyncio.wait([future], timeout=limit)
        except asyncio.CancelledError:  # its request was cut (a shutdown): unless begun, never run
            job.give_up()
            future.cancel()  # no one will read its outcome
            raise
        if not future.done() and job.give_up():
            future.cancel()
            raise StorageUnavailable(f"a write waited more than {limit} s for the database")
        return await future  # begun in time: it commits or fails soon

    def _over_budget(self) -> int:
        return time.perf_counter() > self._deadline

    def _read_in_thread(self, work: Work[T]) -> T:
        connection: sqlite3.Connection | None = getattr(self._thread_readers, "connection", None)
        with storage_errors():
            if connection is None:
                connection = connect(
                    self.path, busy_timeout=self.options.write_timeout, check_same_thread=False
                )
                self._thread_readers.connection = connection
                self._all_readers.append(connection)
            return work(connection)

    def _write_loop(self, opened: threading.Event, failure: list[BaseException]) -> None:
        try:
            with storage_errors():
                connection = connect(self.path, busy_timeout=self.options.write_timeout)
                connection.execute(f"PRAGMA synchronous = {self.options.synchronous}")
        except BaseException as error:
            failure.append(error)
            opened.set()
            return
        opened.set()
        try:
            running = True
            while running:
                jobs: list[_Job] = []
                job = self._jobs.get()
                while job is not None:
                    jobs.append(job)
                    if len(jobs) >= _GROUP_MAX:
                        break
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                running = job is not None or len(jobs) >= _GROUP_MAX
                _commit_group(connection, jobs)
        finally:
            connection.close()


def _commit_group(connection: sqlite3.Connection, jobs: list[_Job]) -> None:
    """Every job in one transaction, each in its own savepoint; each told its outcome after COMMIT."""
    begun: list[_Job] = []
    outcomes: list[tuple[Any, BaseException | None]] = []
    try:
        connection.execute("BEGIN IMMEDIATE")
        for job in jobs:
            if not job.begin():  # its caller gave up while the jobs before it ran: it never runs
                continue
            begun.append(job)
            connection.execute("SAVEPOINT job")
            try:
                result = job.work(connection)
            except Exception as error:
                if not connection.in_transaction:  # SQLite undid the whole transaction (a full disk)
                    raise sqlite3.OperationalError(f"the transaction was rolled back: {error}") from error
                connection.execute("ROLLBACK TO job")
                connection.execute("RELEASE job")
                outcomes.append((None, unavailable(error) if isinstance(error, sqlite3.Error) else error))
            else:
                connection.execute("RELEASE job")
                outcomes.append((result, None))
        connection.execute("COMMIT")
    except sqlite3.Error as error:
        if connection.in_transaction:
            try:
                connection.execute("ROLLBACK")
            except sqlite3.Error:
                log.warning("a rollback failed after %s", type(error).__name__)
        failure = StorageUnavailable(f"SQLite: {error}")
        failure.__cause__ = error
        for job in jobs:  # nothing of the group was written: each caller still waiting is told so
            if job in begun or job.begin():
                job.settle(None, failure)
        return
    for job, (result, failed) in zip(begun, outcomes, strict=True):
        job.settle(result, failed)


async def run_store(store: SqliteStore) -> AsyncIterator[SqliteStore]:
    """The store's life, as a dependency-injector Resource: open at start, closed at shutdown."""
    await asyncio.to_thread(store.open)
    try:
        yield store
    finally:
        await asyncio.to_thread(store.close)
