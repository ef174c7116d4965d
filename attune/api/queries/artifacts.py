"""Artifacts and their versions from the read model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from attune.api.models.artifacts import ArtifactOut, VersionOut
from attune.api.queries.search import Where
from attune.domain.artifact import target as artifact_target
from attune.domain.permission import Target

_ARTIFACT = """
SELECT id, ref, type, scope, owner, visibility, name, description, content_type,
       retention_policy, retention_limit, execution, data, created_by, versions,
       NULLIF(last_version, 0) AS latest_version, created, updated FROM artifacts"""
_VERSION = """
SELECT id, artifact, version, content_type, size_bytes, sha256, object_key, file_path,
       CASE WHEN stored THEN 'stored' ELSE 'allocated' END AS body_state, execution,
       created_by, meta, created FROM artifact_versions"""


@dataclass(frozen=True)
class ArtifactRow:
    out: ArtifactOut

    @property
    def target(self) -> Target:
        return artifact_target(self.out.ref, self.out.scope, self.out.owner)

    @property
    def public(self) -> bool:
        return self.out.visibility == "public"


def _artifact(r: asyncpg.Record) -> ArtifactRow:
    # retention never removes the newest version: last_version is the latest kept
    values: dict[str, Any] = dict(r)
    return ArtifactRow(ArtifactOut(**values))


@dataclass(frozen=True)
class Filters:
    type: str | None = None
    scope: str | None = None
    owner: str | None = None
    execution: int | None = None
    q: str | None = None

    def where(self) -> Where:
        where = Where()
        where.equals("type", self.type)
        where.equals("scope", self.scope)
        where.equals("owner", self.owner)
        where.equals("execution", self.execution)
        where.words(("ref", "coalesce(name, '')"), self.q)
        return where


async def scan(pool: asyncpg.Pool, filters: Filters, *, after: str, limit: int
               ) -> list[ArtifactRow]:
    """Up to `limit` artifacts with refs after `after`, in ref order."""
    where = filters.where()
    where.add("ref > {}", after)
    where.args.append(limit)
    rows = await pool.fetch(f"{_ARTIFACT} {where.sql} ORDER BY ref LIMIT ${len(where.args)}",
                            *where.args)
    return [_artifact(r) for r in rows]


async def by_id(pool: asyncpg.Pool, artifact_id: int) -> ArtifactRow | None:
    row = await pool.fetchrow(f"{_ARTIFACT} WHERE id = $1", artifact_id)
    return _artifact(row) if row else None


async def by_ref(pool: asyncpg.Pool, ref: str) -> ArtifactRow | None:
    row = await pool.fetchrow(f"{_ARTIFACT} WHERE ref = $1", ref)
    return _artifact(row) if row else None


async def versions(pool: asyncpg.Pool, artifact_id: int, *, limit: int, offset: int
                   ) -> list[VersionOut]:
    rows = await pool.fetch(f"{_VERSION} WHERE artifact = $1 ORDER BY version DESC "
                            "LIMIT $2 OFFSET $3", artifact_id, limit, offset)
    return [VersionOut(**dict(r)) for r in rows]


async def version(pool: asyncpg.Pool, artifact_id: int, number: int | None
                  ) -> VersionOut | None:
    """Version `number`, or the newest when None."""
    if number is None:
        row = await pool.fetchrow(f"{_VERSION} WHERE artifact = $1 ORDER BY version DESC "
                                  "LIMIT 1", artifact_id)
    else:
        row = await pool.fetchrow(f"{_VERSION} WHERE artifact = $1 AND version = $2",
                                  artifact_id, number)
    return VersionOut(**dict(row)) if row else None
