from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bootstrap import Container, Settings, create_container
from domain.model import Profile, Role, User
from domain.sources import Uuid7Ids
from entrypoints.http import create_app
from tests.api.conftest import ADMIN, TESTING
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
        container = create_container(Settings(_env_file=None, database_url=url, **{**TESTING, **settings}))
        app = create_app(container)
        async with app.router.lifespan_context(app):
            # As an admin stored as any user is, so that every request takes the real auth path.
            now = datetime.now(UTC)
            admin = User(Uuid7Ids()(), Profile.parse(ADMIN), now, now, role=Role.ADMIN)
            await container.repository().add(admin)
            headers = {"Authorization": f"Bearer {container.tokens().issue(admin).value}"}
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://localhost", headers=headers
            ) as client:
                yield container, client

    return start


@pytest.fixture
async def proxy(database_url: str) -> AsyncIterator[tuple[Proxy, str]]:
    """A cuttable path to the test database, and the URL that goes through it."""
    proxy = Proxy.to(database_url)
    await proxy.start()
    yield proxy, proxy.route(database_url)
    await proxy.cut()
