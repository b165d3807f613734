"""The text log writes one line per record whatever the values in it: every character that could
end a line or drive a terminal is escaped, and a traceback's lines are indented under their record."""

import logging
import re
import sys
from typing import Any

import pytest

from entrypoints.logs import TextFormatter, escape, log_config

FORMAT = log_config("info", "text")["formatters"]["text"]["format"]
FORGED = "2026-12-01 00:00:00,000 INFO users_api.access [-] GET / 200 1.0 ms"


def record(message: str, *args: object, exc_info: Any = None) -> logging.LogRecord:
    written = logging.LogRecord("users_api.access", logging.INFO, __file__, 1, message, args, exc_info)
    written.request_id = "-"  # as RequestIdFilter sets it
    return written


@pytest.mark.parametrize(
    ("sent", "written"),
    [
        ("\n", r"\x0a"),
        ("\r", r"\x0d"),
        ("\x1b[31m", r"\x1b[31m"),
        ("\x00", r"\x00"),
        ("\t", r"\x09"),
        ("\x0b\x0c\x1c\x1d\x1e\x1f", r"\x0b\x0c\x1c\x1d\x1e\x1f"),
        ("\x7f", r"\x7f"),
        ("\x85\x9b", r"\x85\x9b"),
        ("\u2028\u2029", r"\u2028\u2029"),
        ("\u202e\u2066", r"\u202e\u2066"),
        ("\\x0a", r"\\x0a"),  # a client's own backslash is doubled: no escape in the log is forged
    ],
)
def test_a_character_that_could_end_a_line_is_written_as_an_escape(sent: str, written: str) -> None:
    line = TextFormatter(FORMAT).format(record("GET %s 404", f"/x{sent}{FORGED}"))
    assert line.endswith(f"GET /x{written}{FORGED} 404")
    assert line.splitlines() == [line]


def test_printable_text_is_written_as_it_is() -> None:
    assert escape("/users/Ädä 日本 ~!@#$%^&*()") == "/users/Ädä 日本 ~!@#$%^&*()"


def test_a_traceback_stays_under_its_record_whatever_its_message() -> None:
    try:
        raise ValueError(f"bad\n{FORGED}\r\x1b[2K")
    except ValueError:
        failed = record("unhandled error in GET %s", f"/x\n{FORGED}", exc_info=sys.exc_info())
    lines = TextFormatter(FORMAT).format(failed).split("\n")
    assert re.match(r"\d{4}-", lines[0])
    assert lines[1] == "  Traceback (most recent call last):"
    assert all(line.startswith("  ") for line in lines[1:]), lines
    assert lines[-2:] == ["  ValueError: bad", rf"  {FORGED}\x0d\x1b[2K"]
    assert "\r" not in "".join(lines)
    assert "\x1b" not in "".join(lines)
