"""Conditional requests (RFC 9110, 13.1) and the other headers a user response carries."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from urllib.parse import urlencode

from fastapi import Request
from starlette.exceptions import HTTPException

from domain.model import User

# RFC 9110, 8.8.3: entity-tag = [ W/ ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E (obs-text, the
# obsolete bytes over 0x7F, is left out: this service makes ASCII tags). If-Match and If-None-Match
# are `*` or a comma-separated list of them; a value of any other shape is a 422 (it never gets as
# far as a 412 or a 304).
_ENTITY_TAG = r'(?:W/)?"[\x21\x23-\x7E]*"'
_ENTITY_TAG_LIST = rf"{_ENTITY_TAG}(?:[ \t]*,[ \t]*{_ENTITY_TAG})*"
ENTITY_TAG_LIST_PATTERN = rf"^{_ENTITY_TAG_LIST}$"
ENTITY_TAGS_PATTERN = rf"^(?:\*|{_ENTITY_TAG_LIST})$"  # either form
_TAG = re.compile(_ENTITY_TAG)
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*")  # what urlencode leaves as it is


def etag(user: User) -> str:
    return f'"{user.version}"'


def _tags(header: str) -> list[str]:
    """The entity tags of a header that matches ENTITY_TAGS_PATTERN (a tag may hold a comma)."""
    return _TAG.findall(header)


def not_modified(if_none_match: str | None, user: User) -> bool:
    """If-None-Match uses the weak comparison: W/"3" matches "3"."""
    if if_none_match is None:
        return False
    if if_none_match == "*":
        return True
    return etag(user) in (tag.removeprefix("W/") for tag in _tags(if_none_match))


def expected_versions(if_match: str | None) -> frozenset[int] | None:
    """The versions an If-Match accepts; None for any (absent or `*`). If-Match uses the strong
    comparison, so a weak or foreign tag accepts no version and always fails."""
    if if_match is None or if_match == "*":
        return None
    versions = (tag[1:-1] for tag in _tags(if_match) if tag.startswith('"'))
    return frozenset(
        int(version) for version in versions if version.isascii() and version.isdigit() and len(version) < 19
    )


def next_link(path: str, query: Iterable[tuple[str, str]], cursor: str) -> str:
    """The same query with this cursor (and no offset), as a relative reference."""
    kept = [(key, value) for key, value in query if key not in ("cursor", "offset")]
    kept.append(("cursor", cursor))  # a cursor is URL-safe base64
    if all(_UNRESERVED.fullmatch(f"{key}{value}") for key, value in kept):  # the commonest: nothing to escape
        return f'<{path}?{"&".join(f"{key}={value}" for key, value in kept)}>; rel="next"'
    return f'<{path}?{urlencode(kept)}>; rel="next"'


def require_media_type(*accepted: str) -> Callable[[Request], Awaitable[None]]:
    """A dependency answering 415 unless the body's Content-Type is one of `accepted`."""

    async def check(request: Request) -> None:  # async: FastAPI would run a plain def in a thread
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in accepted:
            raise HTTPException(415, detail=" or ".join(accepted))

    return check
