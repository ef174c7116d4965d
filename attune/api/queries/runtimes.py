"""Runtimes from their read model (projections/009_runtimes.sql)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from attune.api.models.runtimes import RuntimeOut
from attune.api.queries.components import SEARCHED, ComponentReads
from attune.api.queries.search import Where
from attune.domain.runtime import RuntimeDef


def _runtime(row: asyncpg.Record) -> RuntimeOut:
    runtime = RuntimeDef.model_validate(row["definition"])
    return RuntimeOut.model_validate({
        **runtime.model_dump(mode="json", exclude_defaults=False), "source": row["source"],
        "created": row["created"], "updated": row["updated"]})


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    pack_ref: str | None = None
    family: str | None = None
    enabled: bool | None = None

    def where(self) -> Where:
        where = Where()
        where.words(SEARCHED, self.q)
        where.equals("pack_ref", self.pack_ref)
        where.equals("family", self.family)
        where.equals("enabled", self.enabled)
        return where


READS = ComponentReads("runtimes", _runtime, noun="runtime")
