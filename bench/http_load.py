"""The HTTP benchmark: `make bench`. Each server is a real process (uvicorn, one worker, uvloop and
httptools), loaded by wrk at 32 connections; every row is the median of BENCH_REPEATS runs of
BENCH_SECONDS seconds, and every ratio is taken between rows of this one run, on one database of
100,000 users made for it (and a SQLite file of the same users). The yardsticks are in
bench/reference/.

The project runs as shipped: `users-api serve`, an admin's bearer token on every request (the
yardsticks have no authentication), request ids, metrics, trusted hosts and the body limit on, at
log level warning; one row repeats GET by id with the access log at info, written to a file.
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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from adapters.postgres import PoolOptions, PostgresUserRepository, open_pool
from adapters.sqlite import SqliteStore, SqliteUserRepository, StoreOptions
from adapters.sqlite import migrate as migrate_file
from bench.postgres_adapter import make_users, own_database
from domain.sources import Uuid7Ids

SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
CONNECTIONS = 32
BULK_CONNECTIONS = 4  # a request of 1,000 users takes long enough that 32 at once only queue
USERS = 100_000
WRK = Path(__file__).with_name("wrk")
BIN = Path(sys.executable).parent
ADMIN = {"username": "admin", "email": "admin@example.com", "password": "the bench admin's password"}
SORTS = ["created_at", "-created_at", "username", "-username", "email", "-email"]
GET, FIRST, CURSOR, OFFSET, CREATE, BULK = (
    "GET one user by id",
    "first page of 50",
    "page at row 90,000 by cursor",
    "page at row 90,000 by offset",
    "create one user",
    "create 1,000 users a request",
)
PG, MEMORY, RAW, ORM, BARE = (
    "project, PostgreSQL",
    "project, in memory",
    "raw asyncpg",
    "SQLAlchemy ORM",
    "bare",
)
PG_INFO = "project, PostgreSQL, access log at info"
SQLITE = "project, SQLite"
# One core for the server under load, the other for wrk (PostgreSQL takes what it needs of both).
_TASKSET = shutil.which("taskset") and (os.cpu_count() or 1) >= 2
PIN_SERVER, PIN_WRK = (["taskset", "-c", "0"], ["taskset", "-c", "1"]) if _TASKSET else ([], [])


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    project: bool = False
    headers: list[str] = field(default_factory=list)  # wrk -H: the admin's token, for the project


def servers(url: str, sqlite_url: str | None = None) -> list[Server]:
    """Each server on a port of its own (appended at start), pinned to the first core: wrk runs on
    the other, as a client on another machine would."""

    def project(level: str) -> list[str]:
        return [*PIN_SERVER, str(BIN / "users-api"), "serve", "--log-level", level, "--port"]

    uvicorn = [*PIN_SERVER, str(BIN / "uvicorn"), "--log-level", "warning", "--no-access-log", "--port"]
    quiet = {"USERS_TRUSTED_HOSTS": "*", "BENCH_DATABASE_URL": url}
    accounts = {
        "USERS_TOKEN_SECRET": "the bench's token secret, 32 bytes or more",
        "USERS_TOKEN_LIFETIME": "86400",
        **{f"USERS_FIRST_ADMIN_{name.upper()}": value for name, value in ADMIN.items()},
    }
    on_postgres = {**quiet, **accounts, "USERS_DATABASE_URL": url}
    on_memory = {**quiet, **accounts, "USERS_DATABASE_URL": "memory://"}
    on_sqlite = {**quiet, **accounts, "USERS_DATABASE_URL": sqlite_url or ""}
    every = [
        Server(PG, [*project("warning"), "{port}"], on_postgres, project=True),
        Server(PG_INFO, [*project("info"), "{port}"], on_postgres, project=True),
        Server(SQLITE, [*project("warning"), "{port}"], on_sqlite, project=True),
        Server(MEMORY, [*project("warning"), "{port}"], on_memory, project=True),
        Server(RAW, [*uvicorn, "{port}", "bench.reference.raw_asyncpg:app"], quiet),
        Server(ORM, [*uvicorn, "{port}", "bench.reference.sqlalchemy_orm:app"], quiet),
        Server(BARE, [*uvicorn, "{port}", "bench.reference.bare:app"], quiet),
    ]
    return [server for server in every if server.name != SQLITE or sqlite_url]  # no file: no row


@contextmanager
def running(server: Server, port: int, log: IO[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("USERS_")} | server.env
    command = [part.replace("{port}", str(port)) for part in server.command]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    try:
        for _ in range(600):
            try:
                httpx.get(f"http://127.0.0.1:{port}/health/live", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError(f"{server.name} did not start; see its log") from None
                time.sleep(0.1)
        if server.project:
            data = {"grant_type": "password", **ADMIN}
            token = httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", data=data, timeout=30)
            server.headers = [f"Authorization: Bearer {token.raise_for_status().json()['access_token']}"]
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(30)


def wrk(
    port: int,
    path: str,
    script: str | None,
    env: dict[str, str],
    headers: list[str],
    seconds: float = SECONDS,
) -> Result:
    connections = BULK_CONNECTIONS if script == "bulk.lua" else CONNECTIONS
    command = [*PIN_WRK, "wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    for header in headers:
        command += ["-H", header]
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


def summary(runs: list[Result]) -> Result:
    return Result(
        statistics.median(run.rps for run in runs),
        statistics.median(run.p50_ms for run in runs),
        statistics.median(run.p99_ms for run in runs),
        sum(run.errors for run in runs),
    )


async def load(url: str, sqlite_url: str | None = None) -> tuple[list[str], str]:
    """100,000 users in the database, the same in the SQLite file if one is named; returns 1,000 of
    their ids, and the query that continues a raw keyset walk after row 90,000."""
    users = make_users(USERS, Uuid7Ids())
    if sqlite_url is not None:
        migrate_file(sqlite_url)
        store = SqliteStore(sqlite_url.removeprefix("sqlite:///"), StoreOptions(write_timeout=600))
        store.open()
        try:
            await SqliteUserRepository(store).add_many(users)
            await store.read(lambda connection: connection.execute("ANALYZE").fetchall())
        finally:
            store.close()
    async with open_pool(
        url, PoolOptions(min_size=1, max_size=2, statement_timeout=600, command_timeout=600)
    ) as pool:
        await PostgresUserRepository(pool, acquire_timeout=10).add_many(users)
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


def fill_memory(port: int, headers: list[str]) -> list[str]:
    """The in-memory server gets the same number of users, through its bulk route."""
    ids: list[str] = []
    auth = dict(header.split(": ", 1) for header in headers)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, headers=auth) as client:
        for batch in range(USERS // 1000):
            body = [{"username": f"m{batch}x{n}", "email": f"m{batch}x{n}@example.com"} for n in range(1000)]
            ids += [
                user["id"]
                for user in client.post("/api/v1/users/bulk", json=body).raise_for_status().json()["items"]
            ]
    return ids[::100]


def cursor_after(port: int, offset: int, sort: str, headers: list[str]) -> str:
    auth = dict(header.split(": ", 1) for header in headers)
    page = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/users",
        params={"limit": 1, "offset": offset - 1, "sort": sort},
        headers=auth,
    ).json()
    return str(page["next_cursor"])


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]


def memory_over_time(
    port: int, pid: int, seconds: int, headers: list[str], **env: str
) -> tuple[float, float]:
    """Peak RSS in the first and in the last 10 s of `seconds` of GET-by-id load."""
    command = [*PIN_WRK, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", str(WRK / "get_by_id.lua")]
    for header in headers:
        command += ["-H", header]
    load = subprocess.Popen(
        [*command, f"http://127.0.0.1:{port}/"], env={**os.environ, **env}, stdout=subprocess.DEVNULL
    )
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    while load.poll() is None:
        samples.append((time.monotonic() - started, rss_mb(pid)))
        time.sleep(0.5)
    first = max(mb for at, mb in samples if at < 10)
    last = max(mb for at, mb in samples if at > seconds - 10)
    return first, last


Runs = dict[str, tuple[str, str | None, dict[str, str]]]


def scenarios(server: Server, port: int, ids_env: dict[str, str], keyset: str) -> Runs:
    """What each server is measured on: path, wrk script, script environment."""
    tag = {"BENCH_TAG": server.name[:1] + server.name[-1]}
    runs: Runs = {GET: ("/", "get_by_id.lua", ids_env)}
    if server.name == PG_INFO:
        return runs
    if server.name in (PG, SQLITE, RAW, ORM):
        runs[FIRST] = ("/api/v1/users?limit=50", None, {})
        runs[OFFSET] = ("/api/v1/users?limit=50&offset=90000", None, {})
    if server.name in (PG, SQLITE, RAW, ORM, MEMORY, BARE):
        runs[CREATE] = ("/", "create.lua", tag)
    if server.name in (PG, SQLITE):
        runs[CURSOR] = (
            f"/api/v1/users?limit=50&cursor={cursor_after(port, 90_000, 'created_at', server.headers)}",
            None,
            {},
        )
    if server.name == RAW:
        runs[CURSOR] = (f"/api/v1/users?limit=50&{keyset}", None, {})
    if server.name in (PG, SQLITE, RAW):
        runs[BULK] = ("/", "bulk.lua", tag)
    if server.name == MEMORY:
        for sort in SORTS:
            runs[f"{FIRST}, sort={sort}"] = (f"/api/v1/users?limit=50&sort={sort}", None, {})
            cursor = cursor_after(port, 90_000, sort, server.headers)
            runs[f"{CURSOR}, sort={sort}"] = (f"/api/v1/users?limit=50&sort={sort}&cursor={cursor}", None, {})
    if server.name == BARE:
        for sort in SORTS:
            runs[f"{FIRST}, sort={sort}"] = (f"/api/v1/users?limit=50&sort={sort}", None, {})
            runs[f"{CURSOR}, sort={sort}"] = (f"/api/v1/users?limit=50&sort={sort}&after=90000", None, {})
        runs["constant JSON"] = ("/constant", None, {})
    return runs


def main() -> None:
    """Every server runs at once, each on its own port; each scenario is measured in rounds, every
    server of the scenario taking its turn in each round, so that what else the machine does falls
    on all of them alike. A row is the median of its rounds."""
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is missing; `sudo apt-get install wrk` (make bench installs it when it may)")
    with own_database() as url, tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        sqlite_url = f"sqlite:///{Path(scratch, 'users.db')}"
        ids, keyset = asyncio.run(load(url, sqlite_url))
        ids_file = Path(scratch, "ids")
        ids_file.write_text("\n".join(ids))
        live: dict[str, tuple[Server, int, subprocess.Popen[bytes]]] = {}
        for server in servers(url, sqlite_url):
            print(f"bench: starting {server.name} ...", file=sys.stderr, flush=True)
            port = _free_port()
            log = stack.enter_context(Path(scratch, f"{port}.log").open("wb"))
            live[server.name] = (server, port, stack.enter_context(running(server, port, log)))
        plans: dict[str, dict[str, tuple[str, str | None, dict[str, str]]]] = {}
        for name, (server, port, _) in live.items():
            ids_env = {"BENCH_IDS": str(ids_file)}
            if name == MEMORY:
                memory_ids = Path(scratch, "memory-ids")
                memory_ids.write_text("\n".join(fill_memory(port, server.headers)))
                ids_env = {"BENCH_IDS": str(memory_ids)}
            for scenario, run in scenarios(server, port, ids_env, keyset).items():
                plans.setdefault(scenario, {})[name] = run
        rounds: dict[tuple[str, str], list[Result]] = {}
        for scenario, runs in plans.items():
            print(f"bench: {scenario} ...", file=sys.stderr, flush=True)
            for round in range(1 + REPEATS):  # the first round warms up, for 1 s
                for name, (path, script, env) in runs.items():
                    server, port, _ = live[name]
                    # Each run's own tag: new users never collide with those of an earlier run.
                    env = {**env, "BENCH_TAG": f"{env['BENCH_TAG']}{round}r"} if "BENCH_TAG" in env else env
                    result = wrk(port, path, script, env, server.headers, seconds=SECONDS if round else 1)
                    if round:
                        rounds.setdefault((scenario, name), []).append(result)
        results = {key: summary(runs) for key, runs in rounds.items()}
        server, port, process = live[PG]
        seconds = int(os.environ.get("BENCH_MEMORY_SECONDS", "60"))
        memory = memory_over_time(port, process.pid, seconds, server.headers, BENCH_IDS=str(ids_file))
    report(results, memory)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def report(results: dict[tuple[str, str], Result], memory: tuple[float, float]) -> None:
    print(f"\nHTTP, one uvicorn worker, wrk -t1 -c{CONNECTIONS} (bulk: -c{BULK_CONNECTIONS}),", end=" ")
    print(f"median of {REPEATS} x {SECONDS:g} s, {USERS:,} users; the project with an admin's token\n")
    print("| scenario | server | req/s | p50 ms | p99 ms | errors | x raw asyncpg | x ORM | x bare | x PG |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (scenario, server), result in results.items():
        ratios = [_ratio(result, results.get((scenario, other))) for other in (RAW, ORM, BARE, PG)]
        print(
            f"| {scenario} | {server} | {result.rps:,.0f} | {result.p50_ms:.2f} | {result.p99_ms:.2f} |"
            f" {result.errors} | {' | '.join(ratios)} |"
        )
    print(
        f"\npeak RSS of the project on PostgreSQL under load: {memory[0]:.1f} MB in the first 10 s,", end=" "
    )
    print(f"{memory[1]:.1f} MB in the last 10 s")
    targets(results, memory)


def _ratio(result: Result, other: Result | None) -> str:
    return f"{result.rps / other.rps:.2f}" if other else ""


def targets(results: dict[tuple[str, str], Result], memory: tuple[float, float]) -> None:
    def ratio(scenario: str, server: str, other: str, other_scenario: str | None = None) -> float:
        return results[(scenario, server)].rps / results[(other_scenario or scenario, other)].rps

    checks: list[tuple[str, float, float]] = []
    for scenario in (GET, FIRST, CURSOR, CREATE):
        checks.append((f"{scenario}: >= 1.1x raw asyncpg", ratio(scenario, PG, RAW), 1.1))
    for scenario in (GET, FIRST, CREATE):
        checks.append((f"{scenario}: >= 3x ORM", ratio(scenario, PG, ORM), 3.0))
    checks.append((f"{BULK}: >= 1.0x raw asyncpg", ratio(BULK, PG, RAW), 1.0))
    checks.append((f"{BULK}: errors (none)", -results[(BULK, PG)].errors, 0))
    checks.append((f"{GET} with the access log at info: >= 1.1x raw", ratio(GET, PG_INFO, RAW), 1.1))
    for scenario in (GET, CREATE):
        checks.append((f"{scenario} in memory: >= 0.9x bare", ratio(scenario, MEMORY, BARE), 0.9))
    for scenario, bound in ((GET, 1.0), (FIRST, 1.0), (CREATE, 0.5)):
        checks.append((f"{scenario} on SQLite: >= {bound}x PostgreSQL", ratio(scenario, SQLITE, PG), bound))
    checks.append((f"{BULK} on SQLite: errors (none)", -results[(BULK, SQLITE)].errors, 0))
    for sort in SORTS:
        for scenario in (FIRST, CURSOR):
            named = f"{scenario}, sort={sort}"
            checks.append((f"{named} in memory: >= 0.8x bare", ratio(named, MEMORY, BARE), 0.8))
    first, cursor, offset = (results[(s, PG)] for s in (FIRST, CURSOR, OFFSET))
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
