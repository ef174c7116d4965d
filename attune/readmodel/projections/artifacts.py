"""The `artifacts` and `artifact_versions` read models (metadata only: content is in
the object store)."""

from __future__ import annotations

from attune.domain.artifact import (
    ArtifactChanged,
    ArtifactCreated,
    ArtifactDeleted,
    ArtifactSpec,
    ProgressAppended,
    VersionAdded,
    VersionsRemoved,
    VersionStored,
    pack_of,
)
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

_INSERT = """
INSERT INTO artifacts (id, ref, type, scope, owner, pack_ref, visibility, name, description,
    content_type, retention_policy, retention_limit, execution, data, created_by, created,
    updated)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
ON CONFLICT (ref) DO UPDATE SET id = $1, type = $3, scope = $4, owner = $5, pack_ref = $6,
    visibility = $7, name = $8, description = $9, content_type = $10,
    retention_policy = $11, retention_limit = $12, execution = $13, data = $14,
    created_by = $15, versions = 0, last_version = 0, created = $16, updated = $16"""
_CHANGE = """
UPDATE artifacts SET scope = $2, owner = $3, pack_ref = $4, visibility = $5, name = $6,
    description = $7, content_type = $8, retention_policy = $9, retention_limit = $10,
    execution = $11, data = $12, updated = $13 WHERE ref = $1"""
_DELETE_VERSIONS = ("DELETE FROM artifact_versions WHERE artifact = "
                    "(SELECT id FROM artifacts WHERE ref = $1)")
_DELETE = "DELETE FROM artifacts WHERE ref = $1"
_PROGRESS = """
UPDATE artifacts SET data = CASE jsonb_typeof(data) WHEN 'array' THEN data ELSE '[]'::jsonb
    END || jsonb_build_array($2::jsonb), updated = $3 WHERE ref = $1"""
_VERSION = """
INSERT INTO artifact_versions (id, artifact, version, stored, object_key, size_bytes, sha256,
    content_type, file_root, file_path, execution, created_by, meta, created)
SELECT $1, id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 FROM artifacts
 WHERE ref = $2
ON CONFLICT (id) DO NOTHING"""
_COUNT = """
UPDATE artifacts SET versions = (SELECT count(*) FROM artifact_versions v
    WHERE v.artifact = artifacts.id), last_version = greatest(last_version, $2),
    updated = $3 WHERE ref = $1"""
_STORED = """
UPDATE artifact_versions SET stored = true, object_key = $3, size_bytes = $4, sha256 = $5
 WHERE artifact = (SELECT id FROM artifacts WHERE ref = $1) AND version = $2"""
_REMOVE = """
DELETE FROM artifact_versions WHERE artifact = (SELECT id FROM artifacts WHERE ref = $1)
   AND version = ANY($2::int[])"""


def _spec_args(s: ArtifactSpec) -> tuple[object, ...]:
    return (s.scope, s.owner, pack_of(s.scope, s.owner), s.visibility, s.name, s.description,
            s.content_type, s.retention_policy, s.retention_limit, s.execution, s.data)


class ArtifactsProjection:
    name = "artifacts"
    tables = ("artifacts", "artifact_versions")

    def apply(self, envelope: Envelope) -> list[Statement]:
        ref = envelope.ref
        match envelope.event:
            case ArtifactCreated() as e:
                s = e.spec
                return [Statement(_DELETE_VERSIONS, (s.ref,)),
                        Statement(_INSERT, (envelope.seq, s.ref, s.type, *_spec_args(s),
                                            s.created_by, e.at))]
            case ArtifactChanged() as e:
                return [Statement(_CHANGE, (ref, *_spec_args(e.spec), e.at))]
            case ArtifactDeleted():
                return [Statement(_DELETE_VERSIONS, (ref,)), Statement(_DELETE, (ref,))]
            case ProgressAppended() as e:
                return [Statement(_PROGRESS, (ref, e.entry, e.at))]
            case VersionAdded() as e:
                return [Statement(_VERSION, (
                    envelope.seq, ref, e.version, e.stored, e.object_key, e.size_bytes,
                    e.sha256, e.content_type, e.file_root, e.file_path, e.execution,
                    e.created_by, e.meta, e.at)),
                    Statement(_COUNT, (ref, e.version, e.at))]
            case VersionStored() as e:
                return [Statement(_STORED, (ref, e.version, e.object_key, e.size_bytes,
                                            e.sha256))]
            case VersionsRemoved() as e:
                return [Statement(_REMOVE, (ref, e.versions)),
                        Statement(_COUNT, (ref, 0, e.at))]
            case _:
                return []
