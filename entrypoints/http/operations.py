"""What an operator scrapes: the Prometheus metrics, outside /api/v1 and outside the API's schema."""

from typing import Annotated

from fastapi import APIRouter, Response

from entrypoints.http.dependencies import provided
from entrypoints.http.metrics import MEDIA_TYPE, Metrics

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(metrics: Annotated[Metrics, provided("metrics")]) -> Response:
    return Response(metrics.exposition(), media_type=MEDIA_TYPE)
