from __future__ import annotations

from attune.domain.pack import PackRegistered
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_UPSERT_PACK = """
INSERT INTO packs (ref, label, description, version, path, system, enabled, definition,
                   components, registered_seq, created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
ON CONFLICT (ref) DO UPDATE SET label = $2, description = $3, version = $4, path = $5,
    system = $6, enabled = $7, definition = $8, components = $9, registered_seq = $10,
    updated = $11"""


class PacksProjection:
    name = "packs"
    tables = ("packs",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        match envelope.event:
            case PackRegistered() as e:
                p = e.pack
                components = e.model_dump(include={"actions"})
                return [Statement(_UPSERT_PACK, (p.ref, p.label, p.description, p.version,
                                                 p.path, p.system, p.enabled,
                                                 p.model_dump(mode="json"), components,
                                                 envelope.seq, e.at))]
            case _:
                return []
