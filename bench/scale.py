"""The scale benchmark (`make bench`, or `python -m bench.scale`): GET one user by id with an admin's
token, by wrk at 32 connections, against `users-api serve --workers 1` and `--workers 2`, then over
the production path (nginx -> `serve --workers 2` -> PgBouncer -> PostgreSQL, configured by deploy/'s
files) and its halves. Servers are not pinned: on this 2-core machine the workers, wrk and
PostgreSQL share both cores, and the table shows how, in CPU-seconds per second of load (read from
/proc/<pid>/stat before and after each run; wrk's from its rusage), and the requests served per
CPU-second of the server side (service, PostgreSQL, nginx, PgBouncer; wrk, the client, left out);
"other" is what the rest of the machine took meanwhile (/proc/stat).
Every row is the median of BENCH_REPEATS rounds of BENCH_SECONDS, each server taking its turn in
each round.
"""

from __future__ import annotations

import asyncio
import os
import resource
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.http_load import REPEATS, SECONDS, Result, Server, _free_port, load, running, servers, wrk
from bench.postgres_adapter import own_database
from tests.e2e.stack import Daemon, nginx, pgbouncer, program, stack_directory

TICK = os.sysconf("SC_CLK_TCK")
ONE, TWO, BOUNCED, PROXIED = (
    "--workers 1, PostgreSQL direct",
    "--workers 2, PostgreSQL direct",
    "--workers 2, through PgBouncer",
    "nginx -> --workers 2 -> PgBouncer",
)
PARTS = ("wrk", "service", "PostgreSQL", "nginx", "PgBouncer", "other")  # other: the rest of the machine


@dataclass(frozen=True)
class Run:
    result: Result
    cpu: dict[str, float]  # CPU-seconds per second of load, by part


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, or 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK  # fields 14 and 15 of proc(5), after the name


def machine_busy() -> float:
    """CPU-seconds the whole machine has spent busy (every core, every process) since boot."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK


def tree(pid: int) -> list[int]:
    """The process and its descendants (uvicorn's workers are children of `serve`)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (FileNotFoundError, ProcessLookupError, IndexError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending += children.get(current, [])
    return found


async def backends(url: str) -> list[int]:
    """The PostgreSQL processes serving the bench's database (the pools', and PgBouncer's)."""
    name = url.rsplit("/", 1)[1]
    connection = await asyncpg.connect(url.rsplit("/", 1)[0] + "/postgres")
    try:
        rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)
    finally:
        await connection.close()
    return [row["pid"] for row in rows]


@dataclass
class Target:
    name: str
    server: Server
    port: int  # where wrk sends the load
    service: int  # pid of `users-api serve`
    daemons: dict[str, Daemon]


def measure(target: Target, url: str, ids_env: dict[str, str], seconds: float) -> Run:
    def part_pids() -> dict[str, list[int]]:
        pids = {"service": tree(target.service), "PostgreSQL": asyncio.run(backends(url))}
        for part, daemon in target.daemons.items():
            pids[part] = tree(daemon.process.pid)
        return pids

    before_pids = part_pids()
    before = {pid: cpu_seconds(pid) for pids in before_pids.values() for pid in pids}
    children, busy = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy()
    result = wrk(target.port, "/", "get_by_id.lua", ids_env, target.server.headers, seconds=seconds)
    after_children, after_busy = resource.getrusage(resource.RUSAGE_CHILDREN), machine_busy()
    after_pids = part_pids()
    cpu = {
        part: sum(cpu_seconds(pid) - before.get(pid, 0.0) for pid in pids) / seconds
        for part, pids in after_pids.items()
    }
    spent = (after_children.ru_utime + after_children.ru_stime) - (children.ru_utime + children.ru_stime)
    cpu["wrk"] = spent / seconds
    cpu["other"] = max(0.0, (after_busy - busy) / seconds - sum(cpu.values()))
    return Run(result, cpu)


@contextmanager
def targets(url: str, scratch: Path, stack: ExitStack) -> Iterator[list[Target]]:
    pgbouncer_binary, nginx_binary = program("pgbouncer"), program("nginx")
    if pgbouncer_binary is None or nginx_binary is None:
        sys.exit("bench: nginx and pgbouncer are needed: sudo apt-get install nginx-light pgbouncer")
    (template,) = (server for server in servers(url) if server.name == "project, PostgreSQL")
    directory = stack.enter_context(stack_directory())
    bouncer, bounced_url = pgbouncer(pgbouncer_binary, directory, url, pool_size=10)
    stack.callback(bouncer.stop)
    built: list[Target] = []

    def serve(name: str, workers: int, env: dict[str, str]) -> Target:
        # The same command as http_load's project row, unpinned, with the workers asked for.
        command = [part for part in template.command if part not in ("taskset", "-c", "0")]
        server = Server(name, [*command[:-2], "--workers", str(workers), *command[-2:]], env, project=True)
        port = _free_port()
        log = stack.enter_context(Path(scratch, f"{port}.log").open("wb"))  # noqa: SIM115  # the stack closes it
        process = stack.enter_context(running(server, port, log))
        return Target(name, server, port, process.pid, {})

    built.append(serve(ONE, 1, template.env))
    built.append(serve(TWO, 2, template.env))
    through = {**template.env, "USERS_DATABASE_URL": bounced_url, "USERS_PGBOUNCER": "true"}
    bounced = serve(BOUNCED, 2, {**through, "USERS_FORWARDED_ALLOW_IPS": "127.0.0.1"})
    bounced.daemons["PgBouncer"] = bouncer
    built.append(bounced)
    proxy = nginx(nginx_binary, directory, [f"127.0.0.1:{bounced.port}"])
    stack.callback(proxy.stop)
    daemons = {"nginx": proxy, "PgBouncer": bouncer}
    built.append(Target(PROXIED, bounced.server, proxy.port, bounced.service, daemons))
    yield built


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is missing; `sudo apt-get install wrk` (make bench installs it when it may)")
    with own_database() as url, tempfile.TemporaryDirectory() as scratch, ExitStack() as stack:
        ids, _ = asyncio.run(load(url))
        ids_file = Path(scratch, "ids")
        ids_file.write_text("\n".join(ids))
        ids_env = {"BENCH_IDS": str(ids_file)}
        live = stack.enter_context(targets(url, Path(scratch), stack))
        rounds: dict[str, list[Run]] = {}
        for round in range(1 + REPEATS):  # the first round warms up (pools fill, plans are made)
            for target in live:
                print(f"bench: scale, round {round}, {target.name} ...", file=sys.stderr, flush=True)
                run = measure(target, url, ids_env, SECONDS if round else 2)
                if round:
                    rounds.setdefault(target.name, []).append(run)
    report({name: median(runs) for name, runs in rounds.items()})


def median(runs: list[Run]) -> Run:
    middle = sorted(runs, key=lambda run: run.result.rps)[len(runs) // 2]
    return Run(
        Result(
            statistics.median(run.result.rps for run in runs),
            statistics.median(run.result.p50_ms for run in runs),
            statistics.median(run.result.p99_ms for run in runs),
            sum(run.result.errors for run in runs),
        ),
        middle.cpu,  # the CPU split of the median run
    )


def report(results: dict[str, Run]) -> None:
    cores = os.cpu_count()
    print(f"\nGET one user by id, wrk -t1 -c32, median of {REPEATS} x {SECONDS:g} s, {cores} cores, unpinned")
    print("CPU: CPU-seconds per second of load; req/CPU-s: requests per CPU-second of the server side\n")
    columns = " | ".join(f"CPU {part}" for part in PARTS)
    print(f"| server | req/s | p50 ms | p99 ms | errors | {columns} | req/CPU-s |")
    print(f"|---|---:|---:|---:|---:|{'---:|' * len(PARTS)}---:|")
    for name, run in results.items():
        cpu = [run.cpu.get(part, 0.0) for part in PARTS]
        serving = sum(cpu[1:-1])
        per_cpu = run.result.rps / serving if serving else 0.0
        print(
            f"| {name} | {run.result.rps:,.0f} | {run.result.p50_ms:.2f} | {run.result.p99_ms:.2f} |"
            f" {run.result.errors} | {' | '.join(f'{value:.2f}' for value in cpu)} | {per_cpu:,.0f} |"
        )
    rps = {name: run.result.rps for name, run in results.items()}
    print(f"\n--workers 2 / --workers 1: {rps[TWO] / rps[ONE]:.2f}x")
    print(f"through PgBouncer / direct (2 workers): {rps[BOUNCED] / rps[TWO]:.2f}x")
    production = rps[PROXIED] / rps[TWO]
    print(f"nginx + PgBouncer / direct (2 workers): {production:.2f}x (the production path's cost)")


if __name__ == "__main__":
    main()
