import asyncio

import httpx
from dependency_injector import providers

from bootstrap import Container
from tests.api.conftest import assert_problem, memory_only


async def test_live_answers_200(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/live")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_ready_answers_200_when_storage_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


@memory_only
async def test_ready_answers_503_fast_when_storage_hangs(
    container: Container, client: httpx.AsyncClient
) -> None:
    class Hanging:
        async def ping(self) -> None:
            await asyncio.sleep(60)

    with container.repository.override(providers.Object(Hanging())), container.ready_timeout.override(0.05):
        started = asyncio.get_running_loop().time()
        response = await client.get("/health/ready")
        elapsed = asyncio.get_running_loop().time() - started
        live = await client.get("/health/live")

    assert_problem(response, 503, "storage_unavailable")
    assert response.headers["retry-after"] == "1"
    assert elapsed < 5, "the ready check must give up at its timeout, not wait for storage"
    assert live.status_code == 200
