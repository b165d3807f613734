import time
from unittest import mock

from domain.sources import Uuid7Ids, utc_now


def test_ids_are_uuid7_with_the_current_millisecond() -> None:
    before = time.time_ns() // 1_000_000
    new_id = Uuid7Ids()()
    after = time.time_ns() // 1_000_000

    assert (new_id.version, new_id.variant) == (7, "specified in RFC 4122")
    assert before <= new_id.int >> 80 <= after


def test_ids_from_one_source_strictly_increase_even_within_one_millisecond() -> None:
    new_id = Uuid7Ids()
    with mock.patch("domain.sources.time.time_ns", return_value=1_800_000_000_000_000_000):
        ids = [new_id() for _ in range(2_000)]

    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(each.version == 7 for each in ids)


def test_ids_keep_increasing_when_the_clock_goes_back() -> None:
    new_id = Uuid7Ids()
    with mock.patch("domain.sources.time.time_ns", return_value=1_800_000_000_000_000_000):
        first = new_id()
    with mock.patch("domain.sources.time.time_ns", return_value=1_700_000_000_000_000_000):
        second = new_id()
    assert second > first


def test_now_is_aware_and_in_utc() -> None:
    assert utc_now().utcoffset() is not None
    assert utc_now().utcoffset().total_seconds() == 0  # type: ignore[union-attr]
