"""What one PostgreSQL primary gives this workload, without the service (`make bench`, or
`python -m bench.primary`): pgbench with the service's own statements on a database of 100,000
users made for the run. Reads: one user by its unique key (the plan of GET by id), with prepared
statements (asyncpg's cache, direct) and without (behind PgBouncer in transaction mode). Writes:
one user inserted as a create does (ON CONFLICT DO NOTHING, one commit each)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from bench.http_load import load
from bench.postgres_adapter import own_database

SECONDS = int(float(os.environ.get("BENCH_SECONDS", "5")) * 2)
CLIENTS = 8
READ = """\\set n random(0, 99999)
SELECT id, username, email, first_name, last_name, role, version, created_at, updated_at,
       password_hash IS NOT NULL, credentials_version
  FROM users WHERE username_key = 'user' || :n;
"""
WRITE = """\\set n random(1, 2000000000)
INSERT INTO users (id, username, email, username_key, email_key, search_text, created_at, updated_at,
                   version, role)
VALUES (gen_random_uuid(), 'w' || :n, 'w' || :n || '@example.com', 'w' || :n,
        'w' || :n || '@example.com', 'w' || :n || ' w' || :n || '@example.com', now(), now(), 1, 'member')
ON CONFLICT DO NOTHING;
"""


def pgbench(url: str, script: Path, mode: str) -> float:
    parts = urlsplit(url)
    where = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    who = ["-U", parts.username or "postgres", parts.path.lstrip("/")]
    load = ["-n", "-c", str(CLIENTS), "-j", "2", "-T", str(SECONDS), "-M", mode, "-f", str(script)]
    command = ["pgbench", *load, *where, *who]
    env = {**os.environ, "PGPASSWORD": parts.password or ""}
    output = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
    return float(re.search(r"tps = ([\d.]+)", output).group(1))  # type: ignore[union-attr]


def main() -> None:
    if shutil.which("pgbench") is None:
        sys.exit("bench: pgbench is missing (it comes with PostgreSQL: postgresql-contrib or postgresql-15)")
    with own_database() as url, tempfile.TemporaryDirectory() as scratch:
        asyncio.run(load(url))
        read, write = Path(scratch, "read.sql"), Path(scratch, "write.sql")
        read.write_text(READ)
        write.write_text(WRITE)
        rows = [
            ("read one user by key, prepared (direct)", pgbench(url, read, "prepared")),
            ("read one user by key, unnamed statements (PgBouncer)", pgbench(url, read, "extended")),
            ("insert one user, one commit each", pgbench(url, write, "prepared")),
        ]
    print(f"\nOne PostgreSQL primary, pgbench -c {CLIENTS} -j 2 -T {SECONDS},", end=" ")
    print(f"on {os.cpu_count()} cores shared with pgbench\n")
    print("| statement | per second |\n|---|---:|")
    for name, rate in rows:
        print(f"| {name} | {rate:,.0f} |")


if __name__ == "__main__":
    main()
