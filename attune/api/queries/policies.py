"""Policies from their read model."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from attune.api.models import ActionPolicyOut, PolicyOut
from attune.api.queries.components import SEARCHED, ComponentReads
from attune.api.queries.search import Where
from attune.domain.policy import PolicyDef, effective

_SELECT = "SELECT definition, source, created, updated FROM policies"


def _fields(row: asyncpg.Record) -> dict[str, object]:
    policy = PolicyDef.model_validate(row["definition"])
    return {**policy.model_dump(mode="json"), "source": row["source"],
            "created": row["created"], "updated": row["updated"]}


def _policy(row: asyncpg.Record) -> PolicyOut:
    return PolicyOut.model_validate(_fields(row))


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    pack_ref: str | None = None
    action_ref: str | None = None
    enabled: bool | None = None

    def where(self) -> Where:
        where = Where()
        where.words(SEARCHED, self.q)
        where.equals("pack_ref", self.pack_ref)
        where.equals("action_ref", self.action_ref)
        where.equals("enabled", self.enabled)
        return where


_READS = ComponentReads('policies', _policy, noun='policy')


async def list_page(pool: asyncpg.Pool, filters: Filters, *, limit: int | None, offset: int
                    ) -> list[PolicyOut]:
    return await _READS.list_page(pool, filters.where(), limit=limit, offset=offset)


async def count(pool: asyncpg.Pool, filters: Filters) -> int:
    return await _READS.count(pool, filters.where())


find = _READS.find
get = _READS.get


async def for_action(pool: asyncpg.Pool, action_ref: str) -> list[ActionPolicyOut]:
    """Every policy that applies to `action_ref` (its own, then its pack's), each
    saying whether it is the effective one — the same choice the executor makes."""
    rows = await pool.fetch(
        f"{_SELECT} WHERE action_ref = $1 OR target_pack_ref = $2 "
        "ORDER BY action_ref IS NULL, priority DESC, ref", action_ref,
        action_ref.partition(".")[0])
    chosen = effective([PolicyDef.model_validate(r["definition"]) for r in rows], action_ref)
    return [ActionPolicyOut.model_validate(
        {**_fields(r), "effective": chosen is not None and r["definition"]["ref"] == chosen.ref})
        for r in rows]
