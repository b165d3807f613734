"""A connection goes back to the pool as it came: the pool runs no reset query (see pool.py), so
nothing an operation does may leave session state behind, whatever it did and however it ended."""

import pytest

from adapters.postgres import PoolOptions, PostgresUserRepository, open_pool
from domain.errors import LastAdmin, UserConflict
from domain.listing import PageQuery, Sort, UserFilter
from domain.model import Role
from tests.contract.conftest import a_user
from tests.postgres import empty

pytestmark = pytest.mark.postgres

STATE = """
SELECT
    (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory') AS advisory_locks,
    (SELECT count(*) FROM pg_cursors) AS cursors,
    (SELECT count(*) FROM pg_listening_channels()) AS listening,
    (SELECT count(*) FROM pg_settings WHERE source = 'session') AS session_settings,
    (SELECT count(*) FROM pg_prepared_xacts) AS prepared,
    txid_current_if_assigned() IS NULL AS no_transaction
"""


async def test_every_kind_of_operation_leaves_the_connection_as_it_found_it(database_url: str) -> None:
    await empty(database_url)
    async with open_pool(database_url, PoolOptions(min_size=1, max_size=1)) as pool:
        repository = PostgresUserRepository(pool, acquire_timeout=5)
        async with pool.acquire() as connection:
            before = await connection.fetchrow(STATE)
        root, other, ada = a_user("root", role=Role.ADMIN), a_user("other", role=Role.ADMIN), a_user("ada")
        await repository.add_many([root, other, ada])
        with pytest.raises(UserConflict):
            await repository.add(a_user("ADA"))  # a failed insert
        await repository.update(other.changed(ada.created_at, role=Role.MEMBER), previous=other)  # the lock
        with pytest.raises(LastAdmin):
            await repository.remove(root)  # the lock, then a refusal: rolled back
        await repository.list(PageQuery(Sort.EMAIL, UserFilter.parse(q="a"), limit=10))
        async with pool.acquire() as connection:  # the one connection, every time
            after = await connection.fetchrow(STATE)

    assert before is not None
    assert after is not None
    assert before["advisory_locks"] == after["advisory_locks"] == 0
    assert dict(after) == dict(before)
