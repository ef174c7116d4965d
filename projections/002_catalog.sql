-- Catalogue components are aggregates of their own (attune/domain/catalog.py): each row
-- records where its definition came from and the sequence of its last event.

ALTER TABLE actions ADD COLUMN source text NOT NULL DEFAULT 'pack';
ALTER TABLE actions ADD COLUMN version bigint NOT NULL DEFAULT 0;
ALTER TABLE packs ADD COLUMN components jsonb NOT NULL DEFAULT '{}';
