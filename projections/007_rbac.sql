-- Identities' lifecycle (frozen, attributes), their integration tokens, permission sets
-- and the assignments of sets to identities.

ALTER TABLE identities ADD COLUMN frozen boolean NOT NULL DEFAULT false;
ALTER TABLE identities ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}';

-- id: sequence of the event that assigned the set, times 100, plus the set's position
-- in that event (a creation may assign several): deterministic on every rebuild.
CREATE TABLE permission_assignments (
    id                  bigint PRIMARY KEY,
    identity_id         bigint NOT NULL,
    login               text NOT NULL,
    permission_set_ref  text NOT NULL,
    created             timestamptz NOT NULL,
    UNIQUE (login, permission_set_ref)
);

CREATE TABLE integration_tokens (
    id            text PRIMARY KEY,
    identity_id   bigint NOT NULL,
    login         text NOT NULL,
    name          text NOT NULL,
    token_sha256  text NOT NULL UNIQUE,      -- never the token itself
    expires_at    timestamptz,
    revoked_at    timestamptz,
    created       timestamptz NOT NULL
);
CREATE INDEX integration_tokens_identity ON integration_tokens (identity_id);

CREATE TABLE permission_sets (
    ref          text PRIMARY KEY,
    pack_ref     text NOT NULL,
    label        text NOT NULL,
    description  text NOT NULL,
    grants       jsonb NOT NULL,
    source       text NOT NULL,
    version      bigint NOT NULL,
    created      timestamptz NOT NULL,
    updated      timestamptz NOT NULL
);
