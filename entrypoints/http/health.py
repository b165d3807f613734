"""Liveness and readiness, outside /api/v1."""

import asyncio

from fastapi import APIRouter

from domain.errors import StorageUnavailable
from domain.ports import UserRepository
from entrypoints.http.dependencies import provided
from entrypoints.http.openapi import operation_id, problems
from entrypoints.http.schemas import Health

router = APIRouter(prefix="/health", tags=["health"], generate_unique_id_function=operation_id)


@router.get("/live")
async def live() -> Health:
    """200 while the process runs; touches nothing."""
    return Health(status="ok")


@router.get("/ready", responses=problems(503))
async def ready(
    repository: UserRepository = provided(lambda services: services.repository),
    ready_timeout: float = provided(lambda services: services.ready_timeout),
) -> Health:
    """200 when storage answers within the timeout, else 503 with Retry-After."""
    try:
        async with asyncio.timeout(ready_timeout):
            await repository.ping()
    except TimeoutError as error:
        raise StorageUnavailable("storage did not answer in time") from error
    return Health(status="ok")
