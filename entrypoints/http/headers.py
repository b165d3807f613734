"""Conditional requests (RFC 9110, 13.1) and the other headers a user response carries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from fastapi import Request
from starlette.exceptions import HTTPException

from domain.model import User


def etag(user: User) -> str:
    return f'"{user.version}"'


def _tags(header: str) -> list[str]:
    return [tag.strip() for tag in header.split(",") if tag.strip()]


def not_modified(if_none_match: str | None, user: User) -> bool:
    """If-None-Match uses the weak comparison: W/"3" matches "3"."""
    if if_none_match is None:
        return False
    tags = _tags(if_none_match)
    return "*" in tags or etag(user) in (tag.removeprefix("W/") for tag in tags)


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """The versions an If-Match accepts; None for any (absent or `*`). If-Match uses the strong
    comparison, so a weak or foreign tag accepts no version and always fails."""
    if if_match is None or "*" in _tags(if_match):
        return None
    versions = (tag[1:-1] for tag in _tags(if_match) if len(tag) > 2 and tag[0] == tag[-1] == '"')
    return frozenset(
        int(version) for version in versions if version.isascii() and version.isdigit() and len(version) < 19
    )


def next_link(request: Request, cursor: str) -> str:
    """The same query with this cursor (and no offset), as a relative reference."""
    query = request.query_params.multi_items()
    kept = [(key, value) for key, value in query if key not in ("cursor", "offset")]
    return f'<{request.url.path}?{urlencode([*kept, ("cursor", cursor)])}>; rel="next"'


def require_media_type(*accepted: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency answering 415 unless the body's Content-Type is one of `accepted`."""

    async def check(request: Request) -> None:  # async: FastAPI would run a plain def in a thread
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in accepted:
            raise HTTPException(415, detail=" or ".join(accepted))

    return check
