from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from bootstrap import Container, Settings, create_container
from entrypoints.http import create_app
from tests.integration.proxy import Proxy
from tests.postgres import drop_test_database, empty, in_own_thread, migrated_test_database

pytestmark = pytest.mark.postgres

AppClient = Callable[..., AbstractAsyncContextManager[tuple[Container, httpx.AsyncClient]]]


@pytest.fixture(scope="module")
def own_database() -> Iterator[str]:
    """A migrated database for one module, for tests that change more than rows."""
    url = in_own_thread(migrated_test_database)
    yield url
    in_own_thread(drop_test_database, url)


@pytest.fixture
async def app_client(database_url: str) -> AppClient:
    """Builds the real app on PostgreSQL with some settings changed, inside its lifespan."""
    await empty(database_url)

    @asynccontextmanager
    async def start(
        url: str = database_url, **settings: Any
    ) -> AsyncIterator[tuple[Container, httpx.AsyncClient]]:
        container = create_container(Settings(_env_file=None, database_url=url, **settings))
        app = create_app(container)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
                yield container, client

    return start


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[tuple[Proxy, str]]:
    """A cuttable path to the test database, and the URL that goes through it."""
    parts = urlsplit(database_url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    user = f"{parts.username}@" if parts.username else ""
    yield proxy, urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))
    await proxy.cut()
