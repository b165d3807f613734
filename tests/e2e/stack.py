"""The production path as real processes: PgBouncer and nginx from the files in deploy/, on
unprivileged ports, their configuration written to a directory of their own (for the tests, and
for bench/scale.py)."""

from __future__ import annotations

import configparser
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.service import free_port

DEPLOY = Path(__file__).parents[2] / "deploy"
NGINX_TEMPLATE = DEPLOY / "nginx" / "users-api.conf.template"
PGBOUNCER_INI = DEPLOY / "pgbouncer" / "pgbouncer.ini"
UNPRIVILEGED = "nobody"


def program(name: str) -> str | None:
    """The path of a Debian package's program (in /usr/sbin, often off a user's PATH)."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin")


def required(name: str) -> str:
    """The program's path, or the test is skipped, saying how to install it."""
    found = program(name)
    if found is None:
        pytest.skip(f"{name} is not installed (apt-get install {name}; .ci/run installs it)")
    return found


@contextmanager
def stack_directory() -> Iterator[Path]:
    """A directory for the daemons' configurations and logs. As root (CI), PgBouncer refuses to run
    unless told to drop to a user: the directory is that user's, outside pytest's private tree."""
    directory = Path(tempfile.mkdtemp(prefix="users-api-stack-"))
    try:
        if os.geteuid() == 0:
            nobody = pwd.getpwnam(UNPRIVILEGED)
            os.chown(directory, nobody.pw_uid, nobody.pw_gid)
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"it exited at start:\n{log.read_text(errors='replace')}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port} after {within} s:\n{log.read_text(errors='replace')}")


@dataclass
class Daemon:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def pgbouncer(binary: str, workdir: Path, database_url: str, *, pool_size: int) -> tuple[Daemon, str]:
    """PgBouncer, configured as deploy/ ships it but for where it listens, whom it trusts (the test
    server's trust authentication) and how many server connections it opens (the test server is
    shared); returns it and the database URL to give the service, which goes through it."""
    target = urlsplit(database_url)
    name = target.path.lstrip("/")
    port = free_port()
    ini = configparser.ConfigParser(interpolation=None, delimiters=("=",), comment_prefixes=(";", "#"))
    ini.optionxform = str  # type: ignore[assignment,method-assign]  # names as written
    ini.read_string(PGBOUNCER_INI.read_text())
    (shipped,) = ini["databases"].values()
    entry = re.sub(r"\bhost=\S+", f"host={target.hostname}", shipped)
    entry = re.sub(r"\bport=\S+", f"port={target.port or 5432}", entry)
    entry = re.sub(r"\bdbname=\S+", f"dbname={name}", entry)
    ini.remove_section("databases")
    ini.add_section("databases")
    ini["databases"][name] = entry
    userlist = workdir / "userlist.txt"
    userlist.write_text(f'"{target.username}" ""\n')
    ini["pgbouncer"].update(
        {
            "listen_addr": "127.0.0.1",
            "listen_port": str(port),
            "auth_type": "trust",
            "auth_file": str(userlist),
            "default_pool_size": str(pool_size),
            "reserve_pool_size": "0",
            "max_db_connections": str(pool_size),
            "logfile": str(workdir / "pgbouncer.log"),
            "pidfile": str(workdir / "pgbouncer.pid"),
        }
    )
    config = workdir / "pgbouncer.ini"
    with config.open("w") as stream:
        ini.write(stream)
    owner = workdir.stat()
    for path in (config, userlist):
        os.chown(path, owner.st_uid, owner.st_gid)
    as_user = ["-u", UNPRIVILEGED] if os.geteuid() == 0 else []
    log = workdir / "pgbouncer.out"
    with log.open("wb") as output:
        process = subprocess.Popen([binary, *as_user, str(config)], stdout=output, stderr=subprocess.STDOUT)
    daemon = Daemon(process, port, workdir / "pgbouncer.log")
    wait_for_port(port, process, log)
    url = f"postgresql://{target.username}@127.0.0.1:{port}/{name}"
    return daemon, url


def nginx(binary: str, workdir: Path, upstreams: list[str], *, client_timeout: str = "10s") -> Daemon:
    """nginx in the foreground, unprivileged, with deploy/'s server block filled in as the nginx
    image would fill it, inside a minimal main configuration of the test's own."""
    port = free_port()
    access_log, error_log = workdir / "nginx-access.log", workdir / "nginx-error.log"
    servers = [f"server {upstream} max_fails=1 fail_timeout=30s;" for upstream in upstreams]
    values = {
        "USERS_API_SERVERS": " ".join(servers),
        "NGINX_PORT": f"127.0.0.1:{port}",
        "NGINX_ACCESS_LOG": str(access_log),
        "NGINX_CLIENT_TIMEOUT": client_timeout,
    }
    server = re.sub(r"\$\{(\w+)\}", lambda found: values[found.group(1)], NGINX_TEMPLATE.read_text())
    (workdir / "users-api.conf").write_text(server)
    temp = workdir / "nginx-temp"
    temp.mkdir(exist_ok=True)
    main = f"""
        daemon off;
        worker_processes 1;
        pid {workdir / "nginx.pid"};
        error_log {error_log} info;
        events {{ worker_connections 512; }}
        http {{
            client_body_temp_path {temp}/body;
            proxy_temp_path {temp}/proxy;
            fastcgi_temp_path {temp}/fastcgi;
            uwsgi_temp_path {temp}/uwsgi;
            scgi_temp_path {temp}/scgi;
            include {workdir / "users-api.conf"};
        }}
    """
    (workdir / "nginx.conf").write_text(main)
    log = workdir / "nginx.out"
    with log.open("wb") as output:
        process = subprocess.Popen(
            # -e: the error log from the start, before the configuration names it
            [binary, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e", str(error_log)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    daemon = Daemon(process, port, access_log)
    wait_for_port(port, process, error_log)
    return daemon
