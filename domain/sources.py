"""Where new ids and the time come from outside tests."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from uuid import UUID, SafeUUID

_VERSION_7 = 0x7 << 76
_VARIANT_RFC = 0b10 << 62
_RAND_B = (1 << 62) - 1
_RANDOM_AHEAD = 10 * 512
_MILLIS = (1 << 48) - 1


def utc_now() -> datetime:
    return datetime.now(UTC)


class Uuid7Ids:
    """UUIDv7 (RFC 9562, 5.7): 48 bits of Unix milliseconds, then 74 random bits.

    Ids from one source only ever increase (RFC 9562, 6.2, method 2: a random increment within the
    same millisecond), so users created in one batch keep their order when sorted by time then id.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0
        # Randomness read ahead, 10 bytes an id: one call per 512 (none read yet: all used).
        self._random, self._used = b"", _RANDOM_AHEAD

    def __call__(self) -> UUID:
        with self._lock:
            millis = time.time_ns() // 1_000_000
            used = self._used
            if used == _RANDOM_AHEAD:
                self._random, used = os.urandom(_RANDOM_AHEAD), 0
            random = int.from_bytes(self._random[used : used + 10], "big")
            self._used = used + 10
            # _compose(millis, random >> 68, random & _RAND_B), written out: a bulk makes 100,000
            value = (
                (millis & _MILLIS) << 80 | _VERSION_7 | (random >> 68) << 64 | _VARIANT_RFC | random & _RAND_B
            )
            last = self._last
            if value <= last:  # within the millisecond of the last id (or the clock went back)
                step = 1 + (random & 0xFFFFFFFF)
                # Most often rand_b takes the step without a carry: the last id plus the step.
                value = last + step if (last & _RAND_B) + step <= _RAND_B else self._successor(random)
            self._last = value
        return uuid_of(value)

    def _successor(self, random: int) -> int:
        millis, rand_a, rand_b = self._last >> 80, (self._last >> 64) & 0xFFF, self._last & _RAND_B
        rand_b += 1 + (random & 0xFFFFFFFF)
        if rand_b > _RAND_B:
            rand_b &= _RAND_B
            rand_a += 1
            if rand_a > 0xFFF:
                rand_a, millis = 0, millis + 1
        return _compose(millis, rand_a, rand_b)


def uuid_of(value: int) -> UUID:
    """UUID(int=value) without UUID.__init__'s checks (Python code, most of its cost), for a value
    known to be 128 bits: made here, or read back from a store that was given one. The slots are
    set straight, and SafeUUID.unknown is read once (an enum member costs about 0.3 us to reach)."""
    made = _new(UUID)
    _set_int(made, value)
    _set_safe(made, _UNKNOWN)
    return made


_new = object.__new__
_set_int, _set_safe = UUID.__dict__["int"].__set__, UUID.__dict__["is_safe"].__set__
_UNKNOWN = SafeUUID.unknown


def _compose(millis: int, rand_a: int, rand_b: int) -> int:
    return (millis & _MILLIS) << 80 | _VERSION_7 | rand_a << 64 | _VARIANT_RFC | rand_b
