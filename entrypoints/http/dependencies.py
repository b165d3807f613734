"""How a route gets what the composition root built: by the provider's name on the container that
`create_app` was given, resolved per request on the event loop.

dependency-injector's `Depends(Provide[...])` markers are plain callables, which FastAPI runs in a
worker thread on every request before `@inject` swaps in the real object: one thread hop per request
for nothing (the benchmark's GET by id ran at 0.6x a raw asyncpg app with them)."""

from typing import Any

from fastapi import Depends, Request


def provided(name: str) -> Any:
    """`Depends` on the container's provider `name`; tests override that provider, as before."""

    async def resolve(request: Request) -> Any:
        return getattr(request.app.state.container, name)()

    resolve.__name__ = f"provided_{name}"
    return Depends(resolve)
