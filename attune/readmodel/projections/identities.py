from __future__ import annotations

from attune.domain.identity import IdentityCreated, IdentityPasswordChanged
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_INSERT = """
INSERT INTO identities (id, login, display_name, password_hash, permission_set_refs,
                        created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (id) DO NOTHING"""
_PASSWORD = "UPDATE identities SET password_hash = $2, updated = $3 WHERE login = $1"


class IdentitiesProjection:
    name = "identities"
    tables = ("identities",)

    def apply(self, envelope: Envelope) -> list[Statement]:
        match envelope.event:
            case IdentityCreated() as e:
                return [Statement(_INSERT, (envelope.seq, e.login, e.display_name,
                                            e.password_hash, e.permission_set_refs, e.at))]
            case IdentityPasswordChanged() as e:
                return [Statement(_PASSWORD, (e.login, e.password_hash, e.at))]
            case _:
                return []
