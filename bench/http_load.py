"""The HTTP benchmark: `make bench`. Each server is a real process (uvicorn, one worker, uvloop and
httptools), loaded by wrk at 32 connections; every row is the median of BENCH_REPEATS runs of
BENCH_SECONDS seconds, and every ratio is taken between rows of this one run, on one database of
100,000 users made for it. The yardsticks are in bench/reference/.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from adapters.postgres import PoolOptions, PostgresUserRepository, open_pool
from bench.postgres_adapter import make_users, own_database
from domain.sources import Uuid7Ids

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
CONNECTIONS = 32
BULK_CONNECTIONS = 4  # a request of 1,000 users takes long enough that 32 at once only queue
USERS = 100_000
WRK = Path(__file__).with_name("wrk")
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass(frozen=True)
class Server:
    name: str
    command: list[str]
    env: dict[str, str]


def servers(url: str, port: int) -> list[Server]:
    project = [str(BIN / "users-api"), "serve", "--port", str(port), "--log-level", "warning"]
    uvicorn = [str(BIN / "uvicorn"), "--port", str(port), "--log-level", "warning", "--no-access-log"]
    quiet = {"USERS_TRUSTED_HOSTS": "*", "BENCH_DATABASE_URL": url}
    return [
        Server("project, PostgreSQL", project, {**quiet, "USERS_DATABASE_URL": url}),
        Server("project, in memory", project, quiet),
        Server("raw asyncpg", [*uvicorn, "bench.reference.raw_asyncpg:app"], quiet),
        Server("SQLAlchemy ORM", [*uvicorn, "bench.reference.sqlalchemy_orm:app"], quiet),
        Server("bare FastAPI, dict", [*uvicorn, "bench.reference.bare:app"], quiet),
    ]


@contextmanager
def running(server: Server, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERS_")} | server.env
    process = subprocess.Popen(server.command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                httpx.get(
                    f"http://127.0.0.1:{port}/api/v1/users/00000000-0000-0000-0000-000000000000", timeout=1
                )
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    raise RuntimeError(f"{server.name} did not start: {stderr}") from None
                time.sleep(0.1)
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


def wrk(port: int, path: str, script: str | None, env: dict[str, str], seconds: float = SECONDS) -> Result:
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    if script:
        command += ["-s", str(WRK / script)]
    output = subprocess.run(
        [*command, f"http://127.0.0.1:{port}{path}"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    percent = {p: _ms(v, u) for p, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)\b", output)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return Result(rps, percent["50"], percent["99"], errors)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def median(port: int, path: str, script: str | None, env: dict[str, str]) -> Result:
    wrk(port, path, script, env, seconds=1)  # warm-up
    runs = [wrk(port, path, script, env) for _ in range(REPEATS)]
    return Result(
        statistics.median(run.rps for run in runs),
        statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs),
        sum(run.errors for run in runs),
    )


async def load(url: str) -> tuple[list[str], str]:
    """100,000 users in the database; returns 1,000 of their ids, and the query that continues a
    raw keyset walk after row 90,000."""
    async with open_pool(
        url, PoolOptions(min_size=1, max_size=2, statement_timeout=600, command_timeout=600)
    ) as pool:
        await PostgresUserRepository(pool, acquire_timeout=10).add_many(make_users(USERS, Uuid7Ids()))
        async with pool.acquire() as connection:
            await connection.execute("VACUUM ANALYZE users")
            ids = [
                str(row["id"])
                for row in await connection.fetch("SELECT id FROM users ORDER BY random() LIMIT 1000")
            ]
            row = await connection.fetchrow(
                "SELECT created_at, id FROM users ORDER BY created_at, id OFFSET 89999 LIMIT 1"
            )
    assert row is not None
    keyset = f"after_created_at={row['created_at'].isoformat().replace('+', '%2B')}&after_id={row['id']}"
    return ids, keyset


def fill_memory(port: int) -> list[str]:
    """The in-memory server gets the same number of users, through its bulk route."""
    ids: list[str] = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        for batch in range(USERS // 1000):
            body = [{"username": f"m{batch}x{n}", "email": f"m{batch}x{n}@example.com"} for n in range(1000)]
            ids += [
                user["id"]
                for user in client.post("/api/v1/users/bulk", json=body).raise_for_status().json()["items"]
            ]
    return ids[::100]


def cursor_after(port: int, offset: int) -> str:
    page = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/users", params={"limit": 1, "offset": offset - 1}
    ).json()
    return str(page["next_cursor"])


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def memory_over_time(port: int, pid: int, seconds: int, **env: str) -> tuple[float, float]:
    """Peak RSS in the first and in the last 10 s of `seconds` of GET-by-id load."""
    load = subprocess.Popen(
        [
            "wrk",
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{seconds}s",
            "-s",
            str(WRK / "get_by_id.lua"),
            f"http://127.0.0.1:{port}/",
        ],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
    )
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    while load.poll() is None:
        samples.append((time.monotonic() - started, rss_mb(pid)))
        time.sleep(0.5)
    first = max(mb for at, mb in samples if at < 10)
    last = max(mb for at, mb in samples if at > seconds - 10)
    return first, last


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is missing; `sudo apt-get install wrk` (make bench installs it when it may)")
    results: dict[tuple[str, str], Result] = {}
    with own_database() as url, tempfile.TemporaryDirectory() as scratch:
        ids, keyset = asyncio.run(load(url))
        ids_file = Path(scratch, "ids")
        ids_file.write_text("\n".join(ids))
        port = _free_port()
        memory = (0.0, 0.0)
        for server in servers(url, port):
            print(f"bench: {server.name} ...", file=sys.stderr, flush=True)
            with running(server, port) as process:
                ids_env = {"BENCH_IDS": str(ids_file)}
                if server.name == "project, in memory":
                    memory_ids = Path(scratch, "memory-ids")
                    memory_ids.write_text("\n".join(fill_memory(port)))
                    ids_env = {"BENCH_IDS": str(memory_ids)}
                runs: dict[str, tuple[str, str | None, dict[str, str]]] = {
                    "GET one user by id": ("/", "get_by_id.lua", ids_env)
                }
                if server.name in ("project, PostgreSQL", "raw asyncpg", "SQLAlchemy ORM"):
                    runs["first page of 50"] = ("/api/v1/users?limit=50", None, {})
                    runs["page at row 90,000 by offset"] = ("/api/v1/users?limit=50&offset=90000", None, {})
                    runs["create one user"] = ("/", "create.lua", {"BENCH_TAG": server.name[:1]})
                if server.name == "project, PostgreSQL":
                    cursor = cursor_after(port, 90_000)
                    runs["page at row 90,000 by cursor"] = (
                        f"/api/v1/users?limit=50&cursor={cursor}",
                        None,
                        {},
                    )
                if server.name == "raw asyncpg":
                    runs["page at row 90,000 by cursor"] = (f"/api/v1/users?limit=50&{keyset}", None, {})
                if server.name in ("project, PostgreSQL", "raw asyncpg"):
                    runs["create 1,000 users a request"] = ("/", "bulk.lua", {"BENCH_TAG": server.name[:1]})
                if server.name == "bare FastAPI, dict":
                    runs["constant JSON"] = ("/constant", None, {})
                for scenario, (path, script, env) in runs.items():
                    results[(scenario, server.name)] = median(port, path, script, env)
                if server.name == "project, PostgreSQL":
                    memory = memory_over_time(
                        port, process.pid, int(os.environ.get("BENCH_MEMORY_SECONDS", "60")), **ids_env
                    )
    report(results, memory)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def report(results: dict[tuple[str, str], Result], memory: tuple[float, float]) -> None:
    print(f"\nHTTP, one uvicorn worker, wrk -t1 -c{CONNECTIONS} (bulk: -c{BULK_CONNECTIONS}),", end=" ")
    print(f"median of {REPEATS} x {SECONDS:g} s, {USERS:,} users\n")
    print("| scenario | server | req/s | p50 ms | p99 ms | errors | x raw asyncpg | x ORM |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for (scenario, server), result in results.items():
        raw = results.get((scenario, "raw asyncpg"))
        orm = results.get((scenario, "SQLAlchemy ORM"))
        print(
            f"| {scenario} | {server} | {result.rps:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} |"
            f" {result.errors} | {_ratio(result, raw)} | {_ratio(result, orm)} |"
        )
    print(
        f"\npeak RSS of the project on PostgreSQL under load: {memory[0]:.1f} MB in the first 10 s,", end=" "
    )
    print(f"{memory[1]:.1f} MB in the last 10 s")
    targets(results, memory)


def _ratio(result: Result, other: Result | None) -> str:
    return f"{result.rps / other.rps:.2f}" if other else ""


def targets(results: dict[tuple[str, str], Result], memory: tuple[float, float]) -> None:
    def rps(scenario: str, server: str) -> float:
        return results[(scenario, server)].rps

    checks = []
    for scenario in ("GET one user by id", "first page of 50", "create one user"):
        checks.append(
            (
                f"{scenario}: >= 1.0x raw asyncpg",
                rps(scenario, "project, PostgreSQL") / rps(scenario, "raw asyncpg"),
                1.0,
            )
        )
        checks.append(
            (
                f"{scenario}: >= 3x ORM",
                rps(scenario, "project, PostgreSQL") / rps(scenario, "SQLAlchemy ORM"),
                3.0,
            )
        )
    checks.append(
        (
            "GET by id in memory: >= 0.9x bare dict",
            rps("GET one user by id", "project, in memory") / rps("GET one user by id", "bare FastAPI, dict"),
            0.9,
        )
    )
    bulk = "create 1,000 users a request"
    checks.append(
        (
            "bulk over HTTP: >= 1.0x raw asyncpg",
            rps(bulk, "project, PostgreSQL") / rps(bulk, "raw asyncpg"),
            1.0,
        )
    )
    first, cursor, offset = (
        results[(s, "project, PostgreSQL")]
        for s in ("first page of 50", "page at row 90,000 by cursor", "page at row 90,000 by offset")
    )
    checks.append(
        ("page at 90,000 by cursor: within 1.2x of the first page's cost", first.rps / cursor.rps, -1.2)
    )
    checks.append(("page at 90,000: cursor >= 5x offset", cursor.rps / offset.rps, 5.0))
    checks.append(("peak RSS, last 10 s / first 10 s (flat: <= 1.05)", memory[1] / memory[0], -1.05))
    print("\n| target | measured | met |\n|---|---:|---|")
    for name, value, bound in checks:
        met = value <= -bound if bound < 0 else value >= bound
        print(f"| {name} | {value:.2f} | {'yes' if met else 'NO'} |")


if __name__ == "__main__":
    main()
