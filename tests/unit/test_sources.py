import time
from unittest import mock
from uuid import UUID

from domain.sources import Uuid7Ids, utc_now, uuid_of


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


def test_ids_carry_past_a_full_random_field_within_one_millisecond() -> None:
    """When rand_b cannot take the step, rand_a goes up (and past it, the millisecond): the variant
    and version bits between the fields stay as they are."""
    new_id = Uuid7Ids()
    with mock.patch("domain.sources.time.time_ns", return_value=1_800_000_000_000_000_000):
        first = new_id()
        for rand_a in (0x123, 0xFFF):  # rand_b full: a carry into rand_a, then into the millisecond
            new_id._last = (first.int >> 76) << 76 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | (1 << 62) - 2
            ids = [UUID(int=new_id._last), *(new_id() for _ in range(100))]
            assert ids == sorted(ids)
            assert len(set(ids)) == len(ids)
            assert all((each.version, each.variant) == (7, first.variant) for each in ids)
        assert ids[-1].int >> 80 == (first.int >> 80) + 1


def test_now_is_aware_and_in_utc() -> None:
    assert utc_now().utcoffset() is not None
    assert utc_now().utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_a_uuid_made_from_its_value_is_the_one_uuid_makes() -> None:
    for value in (0, 1, 0x0190_F3C4_5E6F_7ABC_8DEF_0123_4567_89AB, (1 << 128) - 1):
        made, expected = uuid_of(value), UUID(int=value)
        assert (made, hash(made), str(made), made.is_safe) == (
            expected,
            hash(expected),
            str(expected),
            expected.is_safe,
        )
