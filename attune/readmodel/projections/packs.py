from __future__ import annotations

from attune.domain.pack import PackRegistered
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_UPSERT_PACK = """
INSERT INTO packs (ref, label, description, version, path, system, enabled, definition,
                   registered_seq, created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
ON CONFLICT (ref) DO UPDATE SET label = $2, description = $3, version = $4, path = $5,
    system = $6, enabled = $7, definition = $8, registered_seq = $9, updated = $10"""
# Actions the new registration no longer lists disappear with it.
_DROP_ACTIONS = "DELETE FROM actions WHERE pack_ref = $1 AND NOT (ref = ANY($2::text[]))"
_UPSERT_ACTION = """
INSERT INTO actions (ref, pack_ref, label, description, runtime, enabled, definition,
                     created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (ref) DO UPDATE SET pack_ref = $2, label = $3, description = $4, runtime = $5,
    enabled = $6, definition = $7, updated = $8"""


class PacksProjection:
    name = "packs"
    tables = ("packs", "actions")

    def apply(self, envelope: Envelope) -> list[Statement]:
        match envelope.event:
            case PackRegistered() as e:
                p = e.pack
                out = [
                    Statement(_UPSERT_PACK, (p.ref, p.label, p.description, p.version, p.path,
                                             p.system, p.enabled, p.model_dump(mode="json"),
                                             envelope.seq, e.at)),
                    Statement(_DROP_ACTIONS, (p.ref, [a.ref for a in e.actions])),
                ]
                out += [Statement(_UPSERT_ACTION, (a.ref, a.pack_ref, a.label, a.description,
                                                   a.runtime, a.enabled,
                                                   a.model_dump(mode="json"), e.at))
                        for a in e.actions]
                return out
            case _:
                return []
