-- Sensors (attune.domain.sensor), the catalogue projection shape.
CREATE TABLE sensors (
    ref           text PRIMARY KEY,
    pack_ref      text NOT NULL,
    label         text NOT NULL,
    description   text NOT NULL,
    runner_type   text NOT NULL,
    mode          text NOT NULL,
    trigger_types text[] NOT NULL,
    enabled       boolean NOT NULL,
    definition    jsonb NOT NULL,
    source        text NOT NULL,
    version       bigint NOT NULL,
    created       timestamptz NOT NULL,
    updated       timestamptz NOT NULL
);
CREATE INDEX sensors_pack ON sensors (pack_ref);
CREATE INDEX sensors_triggers ON sensors USING gin (trigger_types);

