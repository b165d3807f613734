from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest

from bootstrap import Container, Settings, create_container
from entrypoints.http import create_app
from tests.integration.proxy import Proxy
from tests.postgres import empty

AppClient = Callable[..., AbstractAsyncContextManager[tuple[Container, httpx.AsyncClient]]]


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
    proxy = Proxy.to(database_url)
    await proxy.start()
    yield proxy, proxy.route(database_url)
    await proxy.cut()
