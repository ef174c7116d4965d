"""Rules from their read model."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from attune.api.models import RuleOut
from attune.api.queries.components import SEARCHED, ComponentReads
from attune.api.queries.search import Where
from attune.domain.rule import RuleDef

_SELECT = "SELECT definition, source, created, updated FROM rules"


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


_READS = ComponentReads('rules', _rule, noun='rule')


async def list_page(pool: asyncpg.Pool, filters: Filters, *, limit: int | None, offset: int
                    ) -> list[RuleOut]:
    return await _READS.list_page(pool, filters.where(), limit=limit, offset=offset)


async def count(pool: asyncpg.Pool, filters: Filters) -> int:
    return await _READS.count(pool, filters.where())


find = _READS.find
get = _READS.get
