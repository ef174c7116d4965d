-- Triggers, webhooks, rules, events and enforcements (the automation issue).

CREATE TABLE triggers (
    ref          text PRIMARY KEY,
    pack_ref     text NOT NULL,
    label        text NOT NULL,
    description  text NOT NULL,
    enabled      boolean NOT NULL,
    definition   jsonb NOT NULL,
    source       text NOT NULL,
    version      bigint NOT NULL,
    created      timestamptz NOT NULL,
    updated      timestamptz NOT NULL
);
CREATE INDEX triggers_pack ON triggers (pack_ref);

CREATE TABLE webhooks (
    trigger_ref  text PRIMARY KEY,
    enabled      boolean NOT NULL,
    key_sha256   text,                               -- requests are looked up by this
    key          jsonb,                              -- the key itself, sealed
    security     jsonb NOT NULL DEFAULT '{}',
    updated      timestamptz NOT NULL
);
CREATE UNIQUE INDEX webhooks_key ON webhooks (key_sha256) WHERE key_sha256 IS NOT NULL;

CREATE TABLE rules (
    ref          text PRIMARY KEY,
    pack_ref     text NOT NULL,
    label        text NOT NULL,
    description  text NOT NULL,
    trigger_ref  text NOT NULL,
    action_ref   text NOT NULL,
    enabled      boolean NOT NULL,
    definition   jsonb NOT NULL,
    source       text NOT NULL,
    version      bigint NOT NULL,
    created      timestamptz NOT NULL,
    updated      timestamptz NOT NULL
);
CREATE INDEX rules_trigger ON rules (trigger_ref) WHERE enabled;
CREATE INDEX rules_pack ON rules (pack_ref);
CREATE INDEX rules_action ON rules (action_ref);

CREATE TABLE events (
    id           bigint PRIMARY KEY,                 -- sequence of event.created
    trigger_ref  text NOT NULL,
    payload      jsonb NOT NULL,
    source       text NOT NULL,
    source_ref   text,
    rule_ref     text,
    trigger_instance_id text,
    metadata     jsonb NOT NULL,
    created      timestamptz NOT NULL
);
CREATE INDEX events_trigger ON events (trigger_ref, id DESC);

CREATE TABLE enforcements (
    id           bigint PRIMARY KEY,                 -- sequence of enforcement.created
    rule_ref     text NOT NULL,
    trigger_ref  text NOT NULL,
    event_id     bigint NOT NULL,
    action_ref   text NOT NULL,
    status       text NOT NULL,                      -- created | processed | disabled
    payload      jsonb NOT NULL,
    config       jsonb NOT NULL,                     -- secret values stay sealed
    conditions   jsonb,
    condition    text NOT NULL,
    execution_id bigint,
    reason       text,
    version      bigint NOT NULL,
    created      timestamptz NOT NULL,
    resolved_at  timestamptz
);
CREATE INDEX enforcements_rule ON enforcements (rule_ref, id DESC);
CREATE INDEX enforcements_event ON enforcements (event_id);

ALTER TABLE executions ADD COLUMN rule_ref text;
ALTER TABLE executions ADD COLUMN trigger_ref text;
ALTER TABLE executions ADD COLUMN event_id bigint;
CREATE INDEX executions_enforcement ON executions (enforcement) WHERE enforcement IS NOT NULL;
