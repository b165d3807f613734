"""What the HTTP entrypoint needs from the composition root, and how a route gets it.

`create_app` takes any object shaped like `Services` (bootstrap's Container is one), and a route
names what it needs as a typed attribute of it: `get: GetUser = provided(lambda s: s.get_user)`.
mypy checks both the name and the type; tests override the container's providers, as before.

The provider is called on the event loop, per request. dependency-injector's own
`Depends(Provide[...])` markers are plain callables, which FastAPI runs in a worker thread on every
request: one thread hop per request for nothing (the benchmark's GET by id ran at 0.6x a raw
asyncpg app with them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar, cast

from fastapi import Depends, Request

from domain.ports import UserRepository
from domain.use_cases import (
    Authenticate,
    ChangeUser,
    GetCaller,
    GetUser,
    IssueToken,
    ListUsers,
    RegisterUser,
    RegisterUsers,
    RemoveUser,
)

if TYPE_CHECKING:  # the metrics module declares its route with `provided`
    from entrypoints.http.metrics import Metrics

T = TypeVar("T")


class Services(Protocol):
    """Each attribute makes what a request needs (a dependency-injector provider, or any callable)."""

    @property
    def authenticate(self) -> Callable[[], Authenticate]: ...
    @property
    def issue_token(self) -> Callable[[], IssueToken]: ...
    @property
    def register_user(self) -> Callable[[], RegisterUser]: ...
    @property
    def register_users(self) -> Callable[[], RegisterUsers]: ...
    @property
    def get_user(self) -> Callable[[], GetUser]: ...
    @property
    def get_caller(self) -> Callable[[], GetCaller]: ...
    @property
    def list_users(self) -> Callable[[], ListUsers]: ...
    @property
    def change_user(self) -> Callable[[], ChangeUser]: ...
    @property
    def remove_user(self) -> Callable[[], RemoveUser]: ...
    @property
    def repository(self) -> Callable[[], UserRepository]: ...
    @property
    def ready_timeout(self) -> Callable[[], float]: ...
    @property
    def metrics(self) -> Callable[[], Metrics]: ...
    @property
    def trusted_hosts(self) -> Callable[[], Sequence[str]]: ...
    @property
    def cors_origins(self) -> Callable[[], Sequence[str]]: ...
    @property
    def body_timeout(self) -> Callable[[], float]: ...

    def init_resources(self) -> Awaitable[None] | None:
        """Opens what the services hold (a connection pool), inside the running event loop."""

    def shutdown_resources(self) -> Awaitable[None] | None: ...


def provided(pick: Callable[[Services], Callable[[], T]]) -> T:
    """A FastAPI dependency on `pick(services)()`, typed as what it makes (use it as a default)."""

    async def resolve(request: Request) -> T:
        services: Services = request.app.state.services
        return pick(services)()

    # Typed as what it makes, so that mypy checks the route's annotation against the provider.
    return cast(T, Depends(resolve))
