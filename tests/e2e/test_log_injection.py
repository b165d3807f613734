"""What a client sends cannot forge a log line: a path with a line feed and a fake record after it,
a carriage return, terminal escapes, NUL, other C0 and C1 controls and Unicode's line separators all
come out escaped, one line per request, in the text log; the JSON log holds them as JSON strings."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.e2e.service import Service, environment

pytestmark = pytest.mark.e2e

FORGED = "2026-12-01 00:00:00,000 INFO users_api.access [-] GET /api/v1/users 200 1.0 ms"
# Each kind of character that could end a line, or drive the terminal that shows the log.
KINDS = {
    "line feed": "\n",
    "carriage return": "\r",
    "CR LF": "\r\n",
    "ANSI escape": "\x1b[2K\x1b[1G",  # erase the line, back to its start
    "NUL": "\x00",
    "vertical tab": "\x0b",
    "form feed": "\x0c",
    "file separator": "\x1c",
    "record separator": "\x1e",
    "DEL": "\x7f",
    "next line (C1)": "\x85",
    "CSI (C1)": "\x9b2K",
    "line separator": "\u2028",
    "paragraph separator": "\u2029",
    "right-to-left override": "\u202e",
}
PATHS = {kind: f"/nothing/x{characters}{FORGED}" for kind, characters in KINDS.items()}
RECORD = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+ \[[^\]]+\] ")
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e]")


@pytest.fixture(params=["text", "json"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Service]:
    # Behind a trusted proxy (here: any local client), the client address logged is what
    # X-Forwarded-For says: a value the client chose.
    env = environment(log_format=request.param, forwarded_allow_ips="127.0.0.1")
    service = Service.start(tmp_path, env)
    yield service
    service.kill()


# Headers too: bytes past ASCII are read as Latin-1 (0x85 is NEL). An X-Request-ID that is not sane
# is replaced; X-Forwarded-For is logged as the client's address.
# (Its last comma-separated entry is taken: this one has no comma.)
FORWARDED_FOR = b"203.0.113.9\x85" + FORGED.replace(",", ".").encode()
HEADERS = {
    b"X-Forwarded-For": FORWARDED_FOR,
    b"User-Agent": b"agent\x85" + FORGED.encode(),
    b"X-Request-ID": b"id\xe2\x80\xa8" + FORGED.encode(),
    b"Referer": b"\x9b2K" + FORGED.encode(),
}


def send_every_kind(server: Service) -> None:
    with httpx.Client(base_url=server.base, timeout=5, headers=HEADERS) as client:
        for path in PATHS.values():
            # Percent-encoded on the wire; the server decodes it, and logs the decoded path.
            answer = client.get(quote(path, safe="/"))
            assert answer.status_code == 404, answer.text


def access_lines(server: Service, count: int) -> list[str]:
    """The log's lines once `count` access records are in (each is written after its answer)."""
    deadline = time.monotonic() + 5
    while True:
        lines = server.output().splitlines()  # splits at \r, \x0b, \x1c, \x85, \u2028, ... too
        found = [line for line in lines if "users_api.access" in line and "/nothing/" in line]
        if len(found) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_no_client_value_forges_a_line_of_the_log(server: Service) -> None:
    send_every_kind(server)
    lines = access_lines(server, len(PATHS))
    if '"logger"' not in server.output():  # the text format
        assert not UNSAFE.search(server.output())
        for line in lines:
            # Every line is one record, from the server (or the command's own first line).
            assert RECORD.match(line) or line.startswith("users-api: "), repr(line)
        access = [line for line in lines if " users_api.access " in line and "/nothing/" in line]
        assert len(access) == len(PATHS), "\n".join(access)
        for line, kind in zip(access, KINDS, strict=True):
            # Ours, and the fakes in the path and in X-Forwarded-For, on one line.
            assert line.count("users_api.access") == 3, (kind, line)
            assert line.endswith(r" ms from 203.0.113.9\x85" + FORGED.replace(",", ".")), (kind, line)
        assert r"/nothing/x\x0a2026-12-01" in access[0]  # the line feed, written as an escape
        return
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert all(line.startswith("{") or line.startswith("users-api: ") for line in lines), lines
    logged = [record for record in records if record["logger"] == "users_api.access"]
    logged = [record for record in logged if "/nothing/" in record["message"]]
    # One record per request, and in it the path and the address as they were sent, every character.
    assert len(logged) == len(PATHS)
    for record, path in zip(logged, PATHS.values(), strict=True):
        assert record["message"].startswith(f"GET {path} 404 "), record
        assert record["client"] == FORWARDED_FOR.decode("latin-1"), record
