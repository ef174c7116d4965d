-- Keys (secrets). `value` is the sealed form ({"$sealed": ...}) of an encrypted key:
-- this table never holds the plaintext of an encrypted key (DESIGN invariant 7).

CREATE TABLE keys (
    ref         text PRIMARY KEY,
    owner_type  text NOT NULL,
    owner       text NOT NULL,
    name        text NOT NULL,
    pack_ref    text,
    encrypted   boolean NOT NULL,
    value       jsonb NOT NULL,
    key_id      text,                 -- encryption key id of the sealed value
    expires_at  timestamptz,
    version     bigint NOT NULL,
    created     timestamptz NOT NULL,
    updated     timestamptz NOT NULL
);
CREATE INDEX keys_owner ON keys (owner_type, owner);
CREATE INDEX keys_key_id ON keys (key_id) WHERE encrypted;
