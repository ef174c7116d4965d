-- Artifacts and their versions. Ids are stream sequences: an artifact's id is the
-- sequence of its artifact.created event, a version's id that of its
-- artifact.version_added event, so a rebuild gives the same ids. Content is in the
-- JetStream object store (object_key); `stored` is false while an allocated version
-- waits for its file on the shared volume (file_root/file_path).

CREATE TABLE artifacts (
    id                bigint PRIMARY KEY,
    ref               text NOT NULL UNIQUE,
    type              text NOT NULL,
    scope             text NOT NULL,
    owner             text NOT NULL,
    pack_ref          text,
    visibility        text NOT NULL,
    name              text,
    description       text,
    content_type      text,
    retention_policy  text NOT NULL,
    retention_limit   integer NOT NULL,
    execution         bigint,
    data              jsonb,
    created_by        text,
    versions          integer NOT NULL DEFAULT 0,   -- versions kept now
    last_version      integer NOT NULL DEFAULT 0,   -- highest version number given
    created           timestamptz NOT NULL,
    updated           timestamptz NOT NULL
);
CREATE INDEX artifacts_execution ON artifacts (execution) WHERE execution IS NOT NULL;
CREATE INDEX artifacts_scope ON artifacts (scope, owner);

CREATE TABLE artifact_versions (
    id            bigint PRIMARY KEY,
    artifact      bigint NOT NULL,
    version       integer NOT NULL,
    stored        boolean NOT NULL,
    object_key    text,
    size_bytes    bigint,
    sha256        text,
    content_type  text,
    file_root     text,
    file_path     text,
    execution     bigint,
    created_by    text,
    meta          jsonb,
    created       timestamptz NOT NULL,
    UNIQUE (artifact, version)
);
CREATE INDEX artifact_versions_pending ON artifact_versions (file_root) WHERE NOT stored;
