-- Workflows (attune.workflow, attune.app.workflows).
-- The children of each workflow execution: which task run, item and attempt each is,
-- so signals (cancel, pause, resume) and the execution tree find them.
CREATE TABLE workflow_children (
    execution_id  bigint PRIMARY KEY,
    parent        bigint NOT NULL,
    task          text NOT NULL,
    run           integer NOT NULL,
    item          integer,
    attempt       integer NOT NULL,
    is_workflow   boolean NOT NULL
);
CREATE INDEX workflow_children_parent ON workflow_children (parent);

-- Pending workflow timers (task delays, retry waits): the orchestrator's sweep fires
-- the due ones after a restart (in a running executor they fire in process).
CREATE TABLE workflow_timers (
    execution_id  bigint NOT NULL,
    timer         text NOT NULL,
    due           timestamptz NOT NULL,
    PRIMARY KEY (execution_id, timer)
);
CREATE INDEX workflow_timers_due ON workflow_timers (due);
