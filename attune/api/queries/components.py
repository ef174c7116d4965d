"""Reading a catalogue component table (rules, policies...): one page, a count, one by
ref — the same queries for every component kind, with its own filters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import asyncpg

from attune.api.queries.search import Where
from attune.errors import NotFoundError

Out = TypeVar("Out")
SEARCHED = ("ref", "label", "description", "pack_ref")


class ComponentReads(Generic[Out]):
    def __init__(self, table: str, to_out: Callable[[asyncpg.Record], Out], *, noun: str
                 ) -> None:
        self.table = table
        self.select = f"SELECT definition, source, created, updated FROM {table}"
        self.to_out = to_out
        self.noun = noun

    async def list_page(self, pool: asyncpg.Pool, where: Where, *, limit: int | None,
                        offset: int) -> list[Out]:
        page = where.page(limit, offset)
        rows = await pool.fetch(f"{self.select} {where.sql} ORDER BY ref {page}", *where.args)
        return [self.to_out(r) for r in rows]

    async def count(self, pool: asyncpg.Pool, where: Where) -> int:
        return int(await pool.fetchval(f"SELECT count(*) FROM {self.table} {where.sql}",
                                       *where.args))

    async def find(self, pool: asyncpg.Pool, ref: str) -> Out | None:
        row = await pool.fetchrow(f"{self.select} WHERE ref = $1", ref)
        return self.to_out(row) if row else None

    async def get(self, pool: asyncpg.Pool, ref: str) -> Out:
        found = await self.find(pool, ref)
        if found is None:
            raise NotFoundError(f"{self.noun} {ref!r} not found: GET /api/v1/{self.table} "
                                f"lists the {self.table}")
        return found


async def require(pool: asyncpg.Pool, table: str, ref: str) -> None:
    """404 unless `ref` is in `table` (packs, actions, triggers): a list under an
    unknown parent is an error, not an empty page."""
    if await pool.fetchval(f"SELECT 1 FROM {table} WHERE ref = $1", ref) is None:
        noun = table.removesuffix("s")
        raise NotFoundError(f"{noun} {ref!r} not found: GET /api/v1/{table} lists them")
