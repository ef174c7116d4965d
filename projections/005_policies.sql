-- Policies (concurrency and rate limits) and why an execution waits.

CREATE TABLE policies (
    ref             text PRIMARY KEY,
    pack_ref        text NOT NULL,
    label           text NOT NULL,
    description     text NOT NULL,
    action_ref      text,
    target_pack_ref text,
    priority        integer NOT NULL,
    enabled         boolean NOT NULL,
    definition      jsonb NOT NULL,
    source          text NOT NULL,
    version         bigint NOT NULL,
    created         timestamptz NOT NULL,
    updated         timestamptz NOT NULL
);
CREATE INDEX policies_action ON policies (action_ref) WHERE enabled;
CREATE INDEX policies_target_pack ON policies (target_pack_ref) WHERE enabled;

ALTER TABLE executions ADD COLUMN waiting_reason text;
