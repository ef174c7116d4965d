"""The `permission_sets` read model: one row per set with its grants."""

from __future__ import annotations

from attune.domain.permission import PermissionSetDefined, PermissionSetDeleted
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_UPSERT = """
INSERT INTO permission_sets (ref, pack_ref, label, description, grants, source, version,
                             created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
ON CONFLICT (ref) DO UPDATE SET label = $3, description = $4, grants = $5, source = $6,
    version = $7, updated = $8"""


class PermissionSetsProjection:
    name = "permission_sets"
    tables = ("permission_sets",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        match envelope.event:
            case PermissionSetDefined() as e:
                d = e.definition
                grants = [g.model_dump(mode="json", exclude_none=True) for g in d.grants]
                return [Statement(_UPSERT, (d.ref, d.pack_ref, d.label, d.description, grants,
                                            e.source, envelope.seq, e.at))]
            case PermissionSetDeleted() as e:
                return [Statement("DELETE FROM permission_sets WHERE ref = $1", (e.ref,))]
            case _:
                return []
