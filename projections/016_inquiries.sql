-- Inquiries (attune.domain.inquiry): questions to humans that a `core.ask` execution
-- (often a workflow's task) waits on.
CREATE TABLE inquiries (
    id                     bigint PRIMARY KEY,     -- sequence of inquiry.created
    execution_id           bigint NOT NULL,        -- the core.ask execution
    workflow_execution_id  bigint,                 -- the workflow that asked, if any
    prompt                 text NOT NULL,
    response_schema        jsonb NOT NULL,
    assigned_to            text,
    status                 text NOT NULL,          -- pending, responded, timeout, cancelled
    response               jsonb,
    responded_by           text,
    timeout_at             timestamptz NOT NULL,
    created                timestamptz NOT NULL,
    updated                timestamptz NOT NULL,
    version                bigint NOT NULL
);
CREATE UNIQUE INDEX inquiries_execution ON inquiries (execution_id);
CREATE INDEX inquiries_pending ON inquiries (timeout_at) WHERE status = 'pending';
CREATE INDEX inquiries_assigned ON inquiries (assigned_to, status);
