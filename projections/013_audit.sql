-- The audit trail, two tables and one view over them:
--   audit_requests  one row per API request (from ATTUNE_AUDIT batches)
--   audit_changes   one row per domain change (every event of ATTUNE_EVENTS, with its
--                   actor and request id)
-- A change's token type is that of its request (looked up when read).
-- Never bodies, query strings or secret values. Ids are deterministic (rebuilds give
-- the same ones): a change is 2 x its event sequence, a request 2 x (its batch's
-- sequence x 1000 + its place in the batch) + 1.

CREATE TABLE audit_requests (
    id             bigint PRIMARY KEY,
    at             timestamptz NOT NULL,
    request_id     text NOT NULL,
    actor          text,
    actor_id       bigint,
    token_type     text,
    category       text NOT NULL,      -- the route's RBAC resource, or 'api'
    event_type     text NOT NULL,      -- "GET /api/v1/rules/{ref}"
    action         text,
    resource_ref   text,
    outcome        text NOT NULL,      -- success | denied | failure | error
    status         integer NOT NULL,
    duration_ms    double precision NOT NULL
);
CREATE INDEX audit_requests_at ON audit_requests (at);
CREATE INDEX audit_requests_request ON audit_requests (request_id);

CREATE TABLE audit_changes (
    id             bigint PRIMARY KEY,
    at             timestamptz NOT NULL,
    request_id     text,
    actor          text,
    category       text NOT NULL,      -- RBAC resource of the aggregate
    event_type     text NOT NULL,      -- "rule.defined"
    resource_ref   text
);
CREATE INDEX audit_changes_at ON audit_changes (at);
CREATE INDEX audit_changes_request ON audit_changes (request_id);
CREATE INDEX audit_changes_resource ON audit_changes (category, resource_ref);

CREATE VIEW audit_events AS
    SELECT id, 'request' AS kind, at, request_id, actor, actor_id, token_type, category,
           event_type, action, resource_ref, outcome, status, duration_ms
      FROM audit_requests
    UNION ALL
    SELECT c.id, 'change', c.at, c.request_id, c.actor, NULL::bigint, NULL::text,
           c.category, c.event_type, NULL, c.resource_ref, 'success', NULL::integer,
           NULL::double precision
      FROM audit_changes c;

-- How far ATTUNE_AUDIT has been folded into audit_requests (its own stream's
-- sequence, so it stays out of projection_positions, which track ATTUNE_EVENTS).
CREATE TABLE audit_stream_position (
    name      text PRIMARY KEY,
    position  bigint NOT NULL DEFAULT 0
);
