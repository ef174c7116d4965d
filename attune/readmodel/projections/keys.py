"""The `keys` read model: one row per key, its value sealed when encrypted."""

from __future__ import annotations

from attune.domain.key import KeyDeleted, KeyResealed, KeySet, parse_ref
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement
from attune.security.crypto import sealed_key_id

_UPSERT = """
INSERT INTO keys (ref, owner_type, owner, name, pack_ref, encrypted, value, key_id,
                  expires_at, version, created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
ON CONFLICT (ref) DO UPDATE SET encrypted = $6, value = $7, key_id = $8, expires_at = $9,
    version = $10, updated = $11"""
_RESEAL = "UPDATE keys SET value = $2, key_id = $3, version = $4, updated = $5 WHERE ref = $1"
_DELETE = "DELETE FROM keys WHERE ref = $1"


class KeysProjection:
    name = "keys"
    tables = ("keys",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        match envelope.event:
            case KeySet() as e:
                key_id = sealed_key_id(e.value) if e.encrypted else None
                return [Statement(_UPSERT, (e.ref, e.owner_type, e.owner, e.key_name,
                                            parse_ref(e.ref).pack_ref, e.encrypted,
                                            e.value, key_id, e.expires_at,
                                            envelope.seq, e.at))]
            case KeyResealed() as e:
                return [Statement(_RESEAL, (e.ref, e.value, sealed_key_id(e.value),
                                            envelope.seq, e.at))]
            case KeyDeleted() as e:
                return [Statement(_DELETE, (e.ref,))]
            case _:
                return []

