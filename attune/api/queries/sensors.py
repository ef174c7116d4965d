"""Sensors from their read model."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from attune.api.models.sensors import SensorOut
from attune.api.queries.components import SEARCHED, ComponentReads
from attune.api.queries.search import Where
from attune.domain.sensor import SensorDef


def _sensor(row: asyncpg.Record) -> SensorOut:
    sensor = SensorDef.model_validate(row["definition"])
    return SensorOut(**sensor.model_dump(mode="json"), source=row["source"],
                     created=row["created"], updated=row["updated"])


@dataclass(frozen=True)
class Filters:
    q: str | None = None
    pack_ref: str | None = None
    trigger_ref: str | None = None
    enabled: bool | None = None

    def where(self) -> Where:
        where = Where()
        where.words(SEARCHED, self.q)
        where.equals("pack_ref", self.pack_ref)
        where.equals("enabled", self.enabled)
        if self.trigger_ref is not None:
            where.add("{} = ANY(trigger_types)", self.trigger_ref)
        return where


_READS = ComponentReads("sensors", _sensor, noun="sensor")


async def list_page(pool: asyncpg.Pool, filters: Filters, *, limit: int | None, offset: int
                    ) -> list[SensorOut]:
    return await _READS.list_page(pool, filters.where(), limit=limit, offset=offset)


async def count(pool: asyncpg.Pool, filters: Filters) -> int:
    return await _READS.count(pool, filters.where())


find = _READS.find
get = _READS.get
