"""The contract of the IdempotencyKeys port, and of the repository's writes that complete a claim:
every adapter gives these answers."""

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest

from adapters.memory_keys import InMemoryIdempotencyKeys
from adapters.postgres import PostgresIdempotencyKeys
from adapters.sqlite import SqliteIdempotencyKeys
from domain.errors import IdempotencyInProgress, UserConflict
from domain.idempotency import Claim, Completion, Done, Reserved, Reused, Running
from domain.listing import UserFilter
from domain.model import User
from domain.ports import IdempotencyKeys, UserRepository
from domain.sources import Uuid7Ids
from tests.contract.conftest import T0, a_user
from tests.contract.test_user_repository import batches_of, names

Keyed = tuple[UserRepository, IdempotencyKeys]
LEASE, KEEP = timedelta(seconds=30), timedelta(hours=24)
_token = Uuid7Ids()


def a_claim(key: str = "k1", fingerprint: str = "f1", *, owner: str = "user:1", at: datetime = T0) -> Claim:
    return Claim(owner, key, fingerprint, _token(), at + LEASE)


def told(users: Sequence[User]) -> bytes:
    """An answer naming the users, as an entrypoint would tell them (opaque to the store)."""
    return b"201\n" + b",".join(user.profile.username.encode() for user in users)


def completing(claim: Claim, at: datetime = T0) -> Completion:
    return Completion(claim, told, at + KEEP)


async def test_a_free_key_is_reserved_then_running_for_the_same_request_and_reused_for_another(
    keyed: Keyed,
) -> None:
    _, keys = keyed
    assert await keys.reserve(a_claim(), T0) == Reserved()
    assert await keys.reserve(a_claim(), T0) == Running()
    assert await keys.reserve(a_claim(fingerprint="f2"), T0) == Reused()


async def test_the_answer_is_stored_with_the_user_and_given_to_the_same_request_only(keyed: Keyed) -> None:
    repository, keys = keyed
    claim = a_claim()
    assert await keys.reserve(claim, T0) == Reserved()

    await repository.add(a_user("ada"), completing(claim))

    assert await names(repository) == ["ada"]
    assert await keys.reserve(a_claim(), T0 + timedelta(hours=23)) == Done(b"201\nada")
    assert await keys.reserve(a_claim(fingerprint="f2"), T0) == Reused()


async def test_add_all_stores_the_answer_of_every_batch(keyed: Keyed) -> None:
    repository, keys = keyed
    claim = a_claim()
    await keys.reserve(claim, T0)

    stored = await repository.add_all(
        batches_of([a_user("ada"), a_user("bob")], [a_user("carol")]), completing(claim)
    )

    assert stored == 3
    assert await keys.reserve(a_claim(), T0) == Done(b"201\nada,bob,carol")


async def test_keys_are_each_owners_own(keyed: Keyed) -> None:
    repository, keys = keyed
    mine = a_claim(owner="user:1")
    await keys.reserve(mine, T0)
    await repository.add(a_user("ada"), completing(mine))

    assert await keys.reserve(a_claim(owner="user:2", fingerprint="f2"), T0) == Reserved()
    assert await keys.reserve(a_claim(owner="anonymous", fingerprint="f3"), T0) == Reserved()
    assert await keys.reserve(a_claim("k2", owner="user:1"), T0) == Reserved()


@pytest.mark.parametrize("write", ["add", "add_all"])
async def test_a_conflicting_write_stores_no_answer_and_leaves_the_claim_to_abandon(
    keyed: Keyed, write: str
) -> None:
    repository, keys = keyed
    await repository.add(a_user("ada"))
    claim = a_claim()
    await keys.reserve(claim, T0)

    taken = [a_user("bob"), a_user("ADA", "x@example.com")]
    writing = (
        repository.add(taken[1], completing(claim))
        if write == "add"
        else repository.add_all(batches_of(taken), completing(claim))
    )
    with pytest.raises(UserConflict):
        await writing

    assert await names(repository) == ["ada"]
    assert await keys.reserve(a_claim(), T0) == Running()
    await keys.abandon(claim)
    assert await keys.reserve(a_claim(), T0) == Reserved()


async def test_a_claim_that_no_longer_holds_its_key_writes_nothing(keyed: Keyed) -> None:
    repository, keys = keyed
    first = a_claim()
    await keys.reserve(first, T0)
    later = T0 + LEASE  # the first claim's hold is over: another takes the key over
    second = a_claim(at=later)
    assert await keys.reserve(second, later) == Reserved()

    with pytest.raises(IdempotencyInProgress):
        await repository.add(a_user("ada"), completing(first))
    with pytest.raises(IdempotencyInProgress):
        await repository.add_all(batches_of([a_user("bob")]), completing(first))
    assert await names(repository) == []

    await repository.add(a_user("carol"), completing(second, later))
    assert await names(repository) == ["carol"]
    assert await keys.reserve(a_claim(at=later), later) == Done(b"201\ncarol")


async def test_an_abandoned_claim_writes_nothing_and_abandon_never_drops_an_answer(keyed: Keyed) -> None:
    repository, keys = keyed
    abandoned, done = a_claim("k1"), a_claim("k2")
    await keys.reserve(abandoned, T0)
    await keys.abandon(abandoned)
    with pytest.raises(IdempotencyInProgress):
        await repository.add(a_user("ada"), completing(abandoned))

    await keys.reserve(done, T0)
    await repository.add(a_user("bob"), completing(done))
    await keys.abandon(done)
    await keys.abandon(a_claim("k3"))  # never reserved: nothing happens

    assert await keys.reserve(a_claim("k2"), T0) == Done(b"201\nbob")
    assert await names(repository) == ["bob"]


async def test_a_key_past_its_expiry_is_free_again(keyed: Keyed) -> None:
    repository, keys = keyed
    claim = a_claim()
    await keys.reserve(claim, T0)
    await repository.add(a_user("ada"), completing(claim))

    expired = T0 + KEEP
    assert await keys.reserve(a_claim(fingerprint="f2", at=expired), expired) == Reserved()


async def test_an_unanswered_claim_past_its_hold_is_taken_over(keyed: Keyed) -> None:
    _, keys = keyed
    await keys.reserve(a_claim(), T0)

    assert await keys.reserve(a_claim(), T0 + LEASE - timedelta(microseconds=1)) == Running()
    assert await keys.reserve(a_claim(fingerprint="f2", at=T0 + LEASE), T0 + LEASE) == Reserved()


async def test_of_simultaneous_claims_on_one_key_exactly_one_is_reserved(keyed: Keyed) -> None:
    repository, keys = keyed
    claims = [a_claim() for _ in range(20)]

    reservations = await asyncio.gather(*(keys.reserve(claim, T0) for claim in claims))

    assert sorted(type(found).__name__ for found in reservations) == ["Reserved"] + ["Running"] * 19
    holder = claims[reservations.index(Reserved())]
    results = await asyncio.gather(
        *(repository.add(a_user(f"user{n}"), completing(claim)) for n, claim in enumerate(claims)),
        return_exceptions=True,
    )
    assert sum(result is None for result in results) == 1
    assert all(isinstance(result, IdempotencyInProgress) for result in results if result is not None)
    assert await repository.count(UserFilter()) == 1
    assert results[claims.index(holder)] is None


async def kept(keys: IdempotencyKeys) -> int:
    """How many keys the store holds (read past the port: purging is not something it answers)."""
    if isinstance(keys, InMemoryIdempotencyKeys):
        return len(keys._kept)
    if isinstance(keys, SqliteIdempotencyKeys):
        rows = await keys._store.read(lambda c: c.execute("SELECT count(*) FROM idempotency_keys").fetchall())
        return int(rows[0][0])
    assert isinstance(keys, PostgresIdempotencyKeys)
    async with keys._pool.acquire() as connection:
        count: int = await connection.fetchval("SELECT count(*) FROM idempotency_keys")
    return count


async def test_expired_keys_are_purged_as_others_come(keyed: Keyed) -> None:
    repository, keys = keyed
    answered, running = a_claim("k1"), a_claim("k2")
    await keys.reserve(answered, T0)
    await repository.add(a_user("ada"), completing(answered))
    await keys.reserve(running, T0)
    assert await kept(keys) == 2

    later = T0 + KEEP + timedelta(hours=1)
    await keys.reserve(a_claim("k3", at=later), later)

    assert await kept(keys) == 1
    assert await names(repository) == ["ada"]  # the users stay
