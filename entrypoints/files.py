"""Rows of users from files an operator brings: CSV with a header, or NDJSON (one JSON object per
line). Read lazily, a line at a time; a row that cannot be read is reported, not fatal."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TextIO

from domain.model import PROFILE_FIELDS
from domain.use_cases import Row

# What a row may hold: a profile, and a password hash brought from another system.
COLUMNS = (*PROFILE_FIELDS, "password_hash")


class Format(StrEnum):
    CSV = "csv"
    NDJSON = "ndjson"

    @classmethod
    def of(cls, path: Path) -> Format:
        suffix = path.suffix.lower()
        if suffix in (".ndjson", ".jsonl"):
            return cls.NDJSON
        if suffix == ".csv":
            return cls.CSV
        raise ValueError(f"cannot tell the format of {path.name}; name it .csv or .ndjson, or pass --format")


def rows(file: TextIO, format: Format) -> Iterator[Row]:
    """Raises ValueError when the file as a whole cannot be read (a bad header, broken CSV quoting)."""
    return csv_rows(file) if format is Format.CSV else ndjson_rows(file)


def csv_rows(file: TextIO) -> Iterator[Row]:
    reader = csv.DictReader(file, strict=True)
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in COLUMNS]
    if unknown or not {"username", "email"} <= set(header):
        raise ValueError(f"the CSV header must name username and email, and only {', '.join(COLUMNS)}")
    ended = reader.line_num
    try:
        for record in reader:
            line, ended = ended + 1, reader.line_num  # a quoted field may span lines: where it starts
            if None in record:
                yield line, "more fields than the header names"
            else:
                yield line, record
    except csv.Error as error:
        raise ValueError(f"line {ended + 1}: not valid CSV ({error}); nothing after it was read") from error


def ndjson_rows(file: TextIO) -> Iterator[Row]:
    for line, text in enumerate(file, start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except ValueError:
            yield line, "not valid JSON"
            continue
        if not isinstance(record, dict):
            yield line, "not a JSON object"
        elif unknown := sorted(set(record) - set(COLUMNS)):
            yield line, f"unknown field(s): {', '.join(unknown)}"
        elif wrong := [
            name for name, value in record.items() if value is not None and not isinstance(value, str)
        ]:
            yield line, f"not a string: {', '.join(wrong)}"
        else:
            yield line, record
