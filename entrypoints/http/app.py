"""The FastAPI application, built around a container that the composition root hands in."""

from __future__ import annotations

from dependency_injector.containers import Container
from dependency_injector.ext.starlette import Lifespan
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from domain.errors import DomainError
from entrypoints.http import health, users
from entrypoints.http.middleware import BodyLimit, RequestContext
from entrypoints.http.openapi import openapi
from entrypoints.http.problems import domain_error, http_error, validation_error

MAX_BODY_BYTES = 1_048_576


def create_app(container: Container) -> FastAPI:
    """The routes take their use cases from `container` (wired by name); tests override its providers."""
    container.wire(modules=[users, health])
    app = FastAPI(
        title="users-api",
        version="1",
        description="Registers, finds, lists, searches, changes and removes users.",
        lifespan=Lifespan(container),
        redirect_slashes=False,
    )
    for router in (users.router, health.router):
        app.include_router(router)
    app.state.routes = [*users.router.routes, *health.router.routes]  # for the Allow header of a 405
    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(RequestContext)  # outermost of ours: every answer above carries the request id
    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app
