"""The HTTP entrypoint: FastAPI routes over the domain's use cases."""

from entrypoints.http.app import create_app

__all__ = ["create_app"]
