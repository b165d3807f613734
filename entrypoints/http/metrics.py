"""Prometheus metrics: requests by route template and status, their latency, and the pool's use;
served at /metrics, outside /api/v1 and outside the API's schema (an operator scrapes it)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Protocol

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from entrypoints.http.dependencies import provided

MEDIA_TYPE = CONTENT_TYPE_LATEST
UNMATCHED = "unmatched"  # the route label of a path no route serves: raw paths would be unbounded
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PoolUsage(Protocol):
    @property
    def size(self) -> int: ...
    @property
    def idle(self) -> int: ...
    @property
    def max_size(self) -> int: ...


class Metrics:
    """One registry per app, so that several apps in one process (tests) never share counts. Under
    several workers (prometheus_client's multiprocess mode, which PROMETHEUS_MULTIPROC_DIR turns on
    at import) every worker writes its counts to that directory, and a scrape reads them all."""

    def __init__(self, pool_usage: Callable[[], PoolUsage | None]) -> None:
        self._shared = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "users_api_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "users_api_http_request_duration_seconds",
            "Time from the request's arrival to the end of its answer",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self._pool = _PoolCollector(pool_usage)
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        if self._shared is None:
            self.registry.register(self._pool)
        else:
            self._shared_pool = _SharedPoolGauges(pool_usage, self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "other"  # the series stay few: no method is made up
        series = self._series.get((method, route, status))
        if series is None:  # once per method, route and status: labels() costs a lock and a lookup
            requests = self._requests.labels(method, route, str(status))
            series = self._series[(method, route, status)] = (requests, self._latency.labels(method, route))
        series[0].inc()
        series[1].observe(seconds)
        if self._shared is not None:
            self._shared_pool.refresh()

    def exposition(self) -> bytes:
        if self._shared is None:
            return generate_latest(self.registry)
        self._shared_pool.refresh(now=True)
        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker, path=self._shared)  # type: ignore[no-untyped-call]
        return generate_latest(every_worker)


class _PoolCollector(Collector):
    def __init__(self, pool_usage: Callable[[], PoolUsage | None]) -> None:
        self._pool_usage = pool_usage

    def collect(self) -> Iterator[Metric]:
        usage = self._pool_usage()
        if usage is None:  # in memory: no pool
            return
        connections = GaugeMetricFamily(
            "users_api_pool_connections", "Open database connections", labels=["state"]
        )
        connections.add_metric(["in_use"], usage.size - usage.idle)
        connections.add_metric(["idle"], usage.idle)
        yield connections
        yield GaugeMetricFamily(
            "users_api_pool_max_connections", "The pool's upper bound", value=usage.max_size
        )


class _SharedPoolGauges:
    """The pool series under several workers: gauges summed over the live workers, each worker
    refreshing its own at most once a second while it answers (and at every scrape it answers)."""

    def __init__(self, pool_usage: Callable[[], PoolUsage | None], registry: CollectorRegistry) -> None:
        self._pool_usage = pool_usage
        self._connections = Gauge(
            "users_api_pool_connections",
            "Open database connections",
            ["state"],
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._max = Gauge(
            "users_api_pool_max_connections",
            "The pools' upper bound, summed over the workers",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self._in_use, self._idle = self._connections.labels("in_use"), self._connections.labels("idle")
        self._next = 0.0

    def refresh(self, *, now: bool = False) -> None:
        at = time.monotonic()
        if at < self._next and not now:
            return
        self._next = at + 1.0
        usage = self._pool_usage()
        if usage is None:
            return
        self._in_use.set(usage.size - usage.idle)
        self._idle.set(usage.idle)
        self._max.set(usage.max_size)


router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def exposition(metrics: Metrics = provided(lambda services: services.metrics)) -> Response:
    return Response(metrics.exposition(), media_type=MEDIA_TYPE)
