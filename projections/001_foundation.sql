-- Read models of the foundation. Written only by their projectors
-- (attune/readmodel/projections/*); rebuildable from ATTUNE_EVENTS at any time.
-- Unqualified names: `attune replay verify` builds the same tables in a scratch schema.

CREATE TABLE identities (
    id                  bigint PRIMARY KEY,          -- sequence of identity.created
    login               text NOT NULL UNIQUE,
    display_name        text NOT NULL,
    password_hash       text NOT NULL,
    permission_set_refs text[] NOT NULL DEFAULT '{}',
    created             timestamptz NOT NULL,
    updated             timestamptz NOT NULL
);

CREATE TABLE packs (
    ref          text PRIMARY KEY,
    label        text NOT NULL,
    description  text NOT NULL,
    version      text NOT NULL,
    path         text NOT NULL,
    system       boolean NOT NULL,
    enabled      boolean NOT NULL,
    definition   jsonb NOT NULL,
    registered_seq bigint NOT NULL,
    created      timestamptz NOT NULL,
    updated      timestamptz NOT NULL
);

CREATE TABLE actions (
    ref          text PRIMARY KEY,
    pack_ref     text NOT NULL,
    label        text NOT NULL,
    description  text NOT NULL,
    runtime      text NOT NULL,
    enabled      boolean NOT NULL,
    definition   jsonb NOT NULL,                    -- the full ActionDef
    created      timestamptz NOT NULL,
    updated      timestamptz NOT NULL
);
CREATE INDEX actions_pack ON actions (pack_ref);

CREATE TABLE executions (
    id            bigint PRIMARY KEY,               -- sequence of execution.requested
    action_ref    text NOT NULL,
    status        text NOT NULL,
    parameters    jsonb NOT NULL,                   -- secret values stay sealed
    env_vars      jsonb NOT NULL,
    timeout_seconds integer NOT NULL,
    requested_by  bigint,
    parent        bigint,
    enforcement   bigint,
    worker        text,
    result        jsonb,
    version       bigint NOT NULL,                  -- sequence of the last applied event
    created       timestamptz NOT NULL,
    updated       timestamptz NOT NULL,
    started_at    timestamptz,
    finished_at   timestamptz
);
CREATE INDEX executions_status ON executions (status, id DESC);
CREATE INDEX executions_action ON executions (action_ref, id DESC);
CREATE INDEX executions_parent ON executions (parent) WHERE parent IS NOT NULL;
