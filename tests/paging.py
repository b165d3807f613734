"""Following next cursors for a bounded number of pages: a cursor that stops advancing fails the
test with what it saw, instead of hanging it."""

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import pytest

Item = TypeVar("Item")
Cursor = TypeVar("Cursor")


async def walk_pages(
    fetch: Callable[[Cursor | None], Awaitable[tuple[Sequence[Item], Cursor | None]]],
    *,
    max_pages: int,
    start: Cursor | None = None,
) -> list[Item]:
    """Fetches from `start`, then from each next cursor until there is none; fails after `max_pages`."""
    seen: list[Item] = []
    cursor = start
    for _ in range(max_pages):
        items, cursor = await fetch(cursor)
        seen.extend(items)
        if cursor is None:
            return seen
    pytest.fail(f"still a next page after {max_pages} pages; the cursor does not advance: {seen[-20:]}")


def pages_needed(rows: int, limit: int) -> int:
    """How many pages `rows` rows take at `limit` a page (one, when there are none)."""
    return max(1, -(-rows // limit))
