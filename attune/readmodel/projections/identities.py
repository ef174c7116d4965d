"""The identities read model: identities (frozen flag, attributes, the refs of their
permission sets), the assignments of permission sets, and integration tokens (hashes
only)."""

from __future__ import annotations

from attune.domain.identity import (
    IdentityCreated,
    IdentityDeleted,
    IdentityFrozen,
    IdentityPasswordChanged,
    IdentityUnfrozen,
    IdentityUpdated,
    IntegrationTokenCreated,
    IntegrationTokenRevoked,
    PermissionSetAssigned,
    PermissionSetUnassigned,
)
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_INSERT = """
INSERT INTO identities (id, login, display_name, password_hash, permission_set_refs,
                        attributes, created, updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING"""
_PASSWORD = "UPDATE identities SET password_hash = $2, updated = $3 WHERE login = $1"
_UPDATE = """
UPDATE identities SET display_name = coalesce($2, display_name),
    attributes = coalesce($3, attributes), updated = $4 WHERE login = $1"""
_FROZEN = "UPDATE identities SET frozen = $2, updated = $3 WHERE login = $1"
_DELETE_IDENTITY = "DELETE FROM identities WHERE login = $1"
_DELETE_ASSIGNMENTS = "DELETE FROM permission_assignments WHERE login = $1"
_DELETE_TOKENS = "DELETE FROM integration_tokens WHERE login = $1"
_ASSIGN = """
INSERT INTO permission_assignments (id, identity_id, login, permission_set_ref, created)
SELECT $1, id, login, $3, $4 FROM identities WHERE login = $2
ON CONFLICT (login, permission_set_ref) DO NOTHING"""
_ASSIGN_REF = """
UPDATE identities SET permission_set_refs = array_append(permission_set_refs, $2),
    updated = $3 WHERE login = $1 AND NOT ($2 = ANY(permission_set_refs))"""
_UNASSIGN = "DELETE FROM permission_assignments WHERE login = $1 AND permission_set_ref = $2"
_UNASSIGN_REF = """
UPDATE identities SET permission_set_refs = array_remove(permission_set_refs, $2),
    updated = $3 WHERE login = $1"""
_TOKEN = """
INSERT INTO integration_tokens (id, identity_id, login, name, token_sha256, expires_at,
                                created)
SELECT $1, id, login, $3, $4, $5, $6 FROM identities WHERE login = $2
ON CONFLICT (id) DO NOTHING"""
_REVOKE = """
UPDATE integration_tokens SET revoked_at = coalesce(revoked_at, $3)
WHERE id = $1 AND login = $2"""


class IdentitiesProjection:
    name = "identities"
    tables = ("identities", "permission_assignments", "integration_tokens")

    def apply(self, envelope: Envelope) -> list[Statement]:
        seq = envelope.seq
        match envelope.event:
            case IdentityCreated() as e:
                return [Statement(_INSERT, (seq, e.login, e.display_name, e.password_hash,
                                            e.permission_set_refs, e.attributes, e.at)),
                        *(Statement(_ASSIGN, (seq * 100 + i, e.login, ref, e.at))
                          for i, ref in enumerate(e.permission_set_refs))]
            case IdentityPasswordChanged() as e:
                return [Statement(_PASSWORD, (e.login, e.password_hash, e.at))]
            case IdentityUpdated() as e:
                return [Statement(_UPDATE, (e.login, e.display_name, e.attributes, e.at))]
            case IdentityFrozen() | IdentityUnfrozen() as e:
                return [Statement(_FROZEN, (e.login, isinstance(e, IdentityFrozen), e.at))]
            case IdentityDeleted() as e:
                return [Statement(_DELETE_ASSIGNMENTS, (e.login,)),
                        Statement(_DELETE_TOKENS, (e.login,)),
                        Statement(_DELETE_IDENTITY, (e.login,))]
            case PermissionSetAssigned() as e:
                return [Statement(_ASSIGN, (seq * 100, e.login, e.permission_set_ref, e.at)),
                        Statement(_ASSIGN_REF, (e.login, e.permission_set_ref, e.at))]
            case PermissionSetUnassigned() as e:
                return [Statement(_UNASSIGN, (e.login, e.permission_set_ref)),
                        Statement(_UNASSIGN_REF, (e.login, e.permission_set_ref, e.at))]
            case IntegrationTokenCreated() as e:
                return [Statement(_TOKEN, (e.token_id, e.login, e.label, e.token_sha256,
                                           e.expires_at, e.at))]
            case IntegrationTokenRevoked() as e:
                return [Statement(_REVOKE, (e.token_id, e.login, e.at))]
            case _:
                return []
