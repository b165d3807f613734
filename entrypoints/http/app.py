"""The FastAPI application, built around a container that the composition root hands in."""

from __future__ import annotations

from dependency_injector.containers import Container
from dependency_injector.ext.starlette import Lifespan
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException

from domain.errors import DomainError
from entrypoints.http import health, operations, users
from entrypoints.http.middleware import BodyLimit, RequestContext, TrustedHosts
from entrypoints.http.openapi import openapi
from entrypoints.http.problems import domain_error, http_error, validation_error

MAX_BODY_BYTES = 1_048_576


def create_app(container: Container) -> FastAPI:
    """The routes take their use cases from `container`, by name; tests override its providers."""
    app = FastAPI(
        title="users-api",
        version="1",
        description="Registers, finds, lists, searches, changes and removes users.",
        lifespan=Lifespan(container),
        redirect_slashes=False,
    )
    app.state.container = container  # see entrypoints/http/dependencies.py
    routers = (users.router, health.router, operations.router)
    for router in routers:
        app.include_router(router)
    app.state.routes = [route for router in routers for route in router.routes]  # for a 405's Allow
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    if origins := container.cors_origins():
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Content-Type", "If-Match", "If-None-Match", "X-Request-ID"],
            expose_headers=["ETag", "Location", "Link", "Retry-After", "X-Request-ID"],
            max_age=600,
        )
    app.add_middleware(TrustedHosts, hosts=container.trusted_hosts())
    # Outermost of ours: every answer above carries the request id, is logged and counted.
    app.add_middleware(RequestContext, metrics=container.metrics())
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app
