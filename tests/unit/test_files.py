"""Reading an operator's CSV or NDJSON file into numbered rows, lazily."""

import io
from pathlib import Path

import pytest

from entrypoints.files import Format, rows


def read(text: str, format: Format) -> list[tuple[int, object]]:
    return list(rows(io.StringIO(text, newline=""), format))


def test_csv_rows_are_numbered_by_the_line_they_start_on() -> None:
    text = (
        "username,email,first_name\n"
        "ada,ada@example.com,Ada\n"
        '"bob","bob@example.com","Bo\nb"\n'
        "carol,c@example.com,x,extra\n"
    )

    assert read(text, Format.CSV) == [
        (2, {"username": "ada", "email": "ada@example.com", "first_name": "Ada"}),
        (3, {"username": "bob", "email": "bob@example.com", "first_name": "Bo\nb"}),
        (5, "more fields than the header names"),
    ]


@pytest.mark.parametrize("header", ["email,first_name", "username,email,password", "", "user,mail"])
def test_a_csv_header_without_username_and_email_or_with_other_columns_is_refused(header: str) -> None:
    with pytest.raises(ValueError, match="header must name username and email"):
        read(f"{header}\nada,ada@example.com\n", Format.CSV)


def test_broken_csv_quoting_stops_the_reading_with_its_line() -> None:
    with pytest.raises(ValueError, match="line 3"):
        read('username,email\nada,a@example.com\n"bob"x,b@example.com\n', Format.CSV)


def test_ndjson_rows_say_what_is_wrong_with_each_bad_line() -> None:
    text = "\n".join(
        [
            '{"username": "ada", "email": "ada@example.com", "last_name": null}',
            "",
            '{"username": "bob", ',
            '["bob", "bob@example.com"]',
            '{"username": "carol", "email": "c@example.com", "role": "admin"}',
            '{"username": 7, "email": "d@example.com"}',
            '{"username": "erin", "email": "e@example.com"}',
        ]
    )

    assert read(text, Format.NDJSON) == [
        (1, {"username": "ada", "email": "ada@example.com", "last_name": None}),
        (3, "not valid JSON"),
        (4, "not a JSON object"),
        (5, "unknown field(s): role"),
        (6, "not a string: username"),
        (7, {"username": "erin", "email": "e@example.com"}),
    ]


@pytest.mark.parametrize(
    ("name", "format"),
    [
        ("users.csv", Format.CSV),
        ("USERS.CSV", Format.CSV),
        ("u.ndjson", Format.NDJSON),
        ("u.jsonl", Format.NDJSON),
    ],
)
def test_the_format_follows_the_suffix(name: str, format: Format) -> None:
    assert Format.of(Path(name)) is format


def test_a_file_of_unknown_suffix_asks_for_a_format() -> None:
    with pytest.raises(ValueError, match="--format"):
        Format.of(Path("users.txt"))
