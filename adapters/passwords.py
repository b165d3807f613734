"""The PasswordHasher on pwdlib: Argon2id for every new hash; bcrypt hashes, imported from other
systems, verify too and are replaced at the next login. Hashing runs on a small thread pool of its
own (argon2 and bcrypt release the GIL), so the event loop never waits, and the pool's size bounds
how many hashes run at once (each takes tens of milliseconds and `memory_kib` of memory)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher

from domain.credentials import Password

T = TypeVar("T")
_BCRYPT_MAX_BYTES = 72  # bcrypt reads no further; systems that used it cut passwords there


@dataclass(frozen=True, slots=True, kw_only=True)
class HashingOptions:
    # OWASP's first recommendation for Argon2id (Password Storage Cheat Sheet): 19 MiB, 2 passes.
    time_cost: int = 2
    memory_kib: int = 19_456
    parallelism: int = 1
    concurrency: int = 2  # hashes running at once; more wait their turn


class Argon2PasswordHasher:
    def __init__(self, options: HashingOptions) -> None:
        self._argon2 = Argon2Hasher(
            time_cost=options.time_cost, memory_cost=options.memory_kib, parallelism=options.parallelism
        )
        self._bcrypt = BcryptHasher()
        self._pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="password-hash")
        self._decoy: str | None = None  # verified against when there is no hash, for equal time

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    async def hash(self, password: Password) -> str:
        return await self._run(self._argon2.hash, password.value)

    async def verify(self, password: Password, password_hash: str | None) -> bool:
        if password_hash is None or not self.recognizes(password_hash):
            if self._decoy is None:
                self._decoy = await self._run(self._argon2.hash, secrets.token_urlsafe(16))
            await self._run(self._argon2.verify, password.value, self._decoy)
            return False
        if self._bcrypt.identify(password_hash):
            return await self._run(
                self._bcrypt.verify, password.value.encode()[:_BCRYPT_MAX_BYTES], password_hash
            )
        return await self._run(self._argon2.verify, password.value, password_hash)

    def outdated(self, password_hash: str) -> bool:
        return not self._argon2.identify(password_hash) or self._argon2.check_needs_rehash(password_hash)

    def recognizes(self, password_hash: str) -> bool:
        if password_hash.startswith("$argon2id$"):
            return self._argon2.identify(password_hash)
        return self._bcrypt.identify(password_hash)

    async def _run(self, work: Callable[..., T], *arguments: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *arguments)
