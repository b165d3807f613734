"""The FastAPI application, built around the services that the composition root hands in."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException

from domain.errors import DomainError
from entrypoints.http import auth, health, metrics, users
from entrypoints.http.dependencies import Services
from entrypoints.http.fast import FastPath
from entrypoints.http.middleware import Edge
from entrypoints.http.openapi import openapi
from entrypoints.http.problems import OAuthError, domain_error, http_error, oauth_error, validation_error

MAX_BODY_BYTES = 1_048_576
DOCS_ASSETS = "/docs/assets"  # Swagger UI's and ReDoc's scripts and styles


def create_app(services: Services, *, fast_path: bool = True) -> FastAPI:
    """The routes take what they need from `services` (see dependencies.py); tests override its
    providers. What the services hold (a pool) opens and closes with the app's lifespan. The fast
    path (fast.py) answers the commonest requests the routes' way, faster; without it, the routes
    answer everything. /docs (Swagger UI) and /redoc load their scripts and styles from this
    service (fastapi-offline ships them), so they work on a machine without internet."""
    app = FastAPIOffline(
        title="users-api",
        version="1",
        description="Registers, finds, lists, searches, changes and removes users.",
        lifespan=_lifespan,
        redirect_slashes=False,
        static_url=DOCS_ASSETS,
        # The service's telemetry is its own (/metrics, the request log line): FastAPI's OpenTelemetry
        # bridge would only look for providers on every request (about 8 us of each) and find none.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.services = services
    routers = (users.router, auth.router, health.router, metrics.router)
    for router in routers:
        app.include_router(router)
    app.state.routes = [route for router in routers for route in router.routes]  # for a 405's Allow
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(OAuthError, oauth_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    if fast_path:  # innermost: its answers pass CORS and the edge, as the routes' do
        named = {route.name: route for route in users.router.routes if isinstance(route, APIRoute)}
        app.add_middleware(FastPath, services=services, routes=named)
    if origins := services.cors_origins():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "Idempotency-Key",
                "If-Match",
                "If-None-Match",
                "X-Request-ID",
            ],
            expose_headers=["ETag", "Location", "Link", "Retry-After", "WWW-Authenticate", "X-Request-ID"],
            max_age=600,
        )
    # Outermost of ours: every answer inside carries the request id, is logged and counted.
    app.add_middleware(
        Edge,
        metrics=services.metrics(),
        hosts=services.trusted_hosts(),
        max_bytes=MAX_BODY_BYTES,
        body_timeout=services.body_timeout(),
    )
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    services: Services = app.state.services
    if (opening := services.init_resources()) is not None:
        await opening
    try:
        yield
    finally:
        if (closing := services.shutdown_resources()) is not None:
            await closing
