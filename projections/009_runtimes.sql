-- Runtimes (attune/domain/runtime.py): a pack's runtimes/*.yaml, one row per runtime,
-- written by the `runtimes` catalogue projection.

CREATE TABLE runtimes (
    ref         text PRIMARY KEY,
    pack_ref    text NOT NULL,
    name        text NOT NULL,
    family      text NOT NULL,
    label       text NOT NULL,
    description text NOT NULL,
    enabled     boolean NOT NULL,
    definition  jsonb NOT NULL,
    source      text NOT NULL,
    version     bigint NOT NULL,
    created     timestamptz NOT NULL,
    updated     timestamptz NOT NULL
);
CREATE INDEX runtimes_pack ON runtimes (pack_ref);
