"""Rules from their read model."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from attune.api.models import RuleOut
from attune.api.queries.search import Where
from attune.domain.rule import RuleDef
from attune.errors import NotFoundError

_SELECT = "SELECT definition, source, created, updated FROM rules"
SEARCHED = ("ref", "label", "description", "pack_ref")


def _rule(row: asyncpg.Record) -> RuleOut:
    rule = RuleDef.model_validate(row["definition"])
    return RuleOut(**rule.model_dump(mode="json"), source=row["source"],
                   created=row["created"], updated=row["updated"])


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    pack_ref: str | None = None
    action_ref: str | None = None
    trigger_ref: str | None = None
    enabled: bool | None = None

    def where(self) -> Where:
        where = Where()
        where.words(SEARCHED, self.q)
        where.equals("pack_ref", self.pack_ref)
        where.equals("action_ref", self.action_ref)
        where.equals("trigger_ref", self.trigger_ref)
        where.equals("enabled", self.enabled)
        return where


async def list_page(pool: asyncpg.Pool, filters: Filters, *, limit: int | None, offset: int
                    ) -> list[RuleOut]:
    where = filters.where()
    page = where.page(limit, offset)
    rows = await pool.fetch(f"{_SELECT} {where.sql} ORDER BY ref {page}", *where.args)
    return [_rule(r) for r in rows]


async def count(pool: asyncpg.Pool, filters: Filters) -> int:
    where = filters.where()
    return int(await pool.fetchval(f"SELECT count(*) FROM rules {where.sql}", *where.args))


async def find(pool: asyncpg.Pool, ref: str) -> RuleOut | None:
    row = await pool.fetchrow(f"{_SELECT} WHERE ref = $1", ref)
    return _rule(row) if row else None


async def get(pool: asyncpg.Pool, ref: str) -> RuleOut:
    found = await find(pool, ref)
    if found is None:
        raise NotFoundError(f"rule {ref!r} not found: GET /api/v1/rules lists the rules")
    return found


async def require(pool: asyncpg.Pool, table: str, ref: str) -> None:
    """404 unless `ref` is in `table` (packs, actions, triggers): a list under an
    unknown parent is an error, not an empty page."""
    if await pool.fetchval(f"SELECT 1 FROM {table} WHERE ref = $1", ref) is None:
        noun = table.removesuffix("s")
        raise NotFoundError(f"{noun} {ref!r} not found: GET /api/v1/{table} lists them")
