"""Pages of a list filtered row by row by RBAC constraints: scan in key order, keep
what the caller may see, skip the earlier pages' worth. For tables whose rows a grant
may narrow (keys, identities) and which stay small enough to scan."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
BATCH = 500

Scan = Callable[[str, int], Awaitable[list[T]]]


async def page(scan: Scan[T], key: Callable[[T], str], keep: Callable[[T], bool], *,
               offset: int, limit: int | None, count: bool = False
               ) -> tuple[list[T], int | None]:
    """Visible items `offset`..`offset+limit` and, when `count`, how many are visible."""
    items: list[T] = []
    seen = 0
    after = ""
    while True:
        batch = await scan(after, BATCH)
        for item in batch:
            if not keep(item):
                continue
            if seen >= offset and (limit is None or len(items) < limit):
                items.append(item)
            seen += 1
        full = limit is not None and len(items) >= limit
        if len(batch) < BATCH or (full and not count):
            return items, (seen if count else None)
        after = key(batch[-1])
