"""Several worker processes on one port: uvicorn's supervisor, and the metrics they share."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from prometheus_client import multiprocess
from uvicorn.supervisors import Multiprocess

METRICS_DIR = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's own switch to multiprocess mode


@contextmanager
def shared_metrics() -> Iterator[Path]:
    """A directory where every worker writes its metrics for any of them to serve, made for this
    run (or the operator's PROMETHEUS_MULTIPROC_DIR, emptied of an earlier run's files), named in
    the environment the workers inherit; a directory made here is removed at the end."""
    given = os.environ.get(METRICS_DIR)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
    else:
        directory = Path(tempfile.mkdtemp(prefix="users-api-metrics-"))
        os.environ[METRICS_DIR] = str(directory)
    try:
        yield directory
    finally:
        if not given:
            shutil.rmtree(directory, ignore_errors=True)


class Supervisor(Multiprocess):
    """Uvicorn's supervisor (SIGTERM drains every worker; a worker that dies is replaced), which also
    tells prometheus_client of each worker gone, so that its live gauges are no longer summed."""

    def keep_subprocess_alive(self) -> None:
        before = {process.pid for process in self.processes}
        super().keep_subprocess_alive()
        for pid in before - {process.pid for process in self.processes}:
            if pid is not None:
                multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]

    def join_all(self) -> None:
        super().join_all()
        for process in self.processes:
            if process.pid is not None:
                multiprocess.mark_process_dead(process.pid)  # type: ignore[no-untyped-call]
