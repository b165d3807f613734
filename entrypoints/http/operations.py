"""What an operator scrapes: the Prometheus metrics, outside /api/v1 and outside the API's schema."""

from typing import Annotated

from dependency_injector.wiring import Provide, inject
from fastapi import APIRouter, Depends, Response

from entrypoints.http.metrics import MEDIA_TYPE, Metrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
@inject
async def metrics(metrics: Annotated[Metrics, Depends(Provide["metrics"])]) -> Response:
    return Response(metrics.exposition(), media_type=MEDIA_TYPE)
