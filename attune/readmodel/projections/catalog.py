"""One projection shape for every catalogue component (actions, triggers, rules...):
a row per component with its definition (JSON), kind-specific columns for filtering,
`enabled`, `source` and the sequence of its last event."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from attune.domain import catalog
from attune.eventstore.envelope import Envelope
from attune.readmodel.projection import Statement

Columns = Callable[[Any], dict[str, Any]]


class CatalogProjection:
    """`columns(definition)` gives the kind's own columns besides ref, pack_ref, enabled,
    definition, source, version, created and updated."""

    def __init__(self, name: str, kind: catalog.Kind[Any], table: str, columns: Columns
                 ) -> None:
        self.name = name
        self.kind = kind
        self.table = table
        self.tables = (table,)
        self.columns = columns

    def apply(self, envelope: Envelope) -> list[Statement]:
        event, kind = envelope.event, self.kind
        if isinstance(event, kind.defined):
            return [self._upsert(event.definition, event.source, envelope)]
        if isinstance(event, kind.enabled | kind.disabled):
            flag = isinstance(event, kind.enabled)
            return [Statement(
                f"UPDATE {self.table} SET enabled = $2, "
                "definition = jsonb_set(definition, '{enabled}', to_jsonb($2::boolean)), "
                "version = $3, updated = $4 WHERE ref = $1",
                (envelope.ref, flag, envelope.seq, event.at))]
        if isinstance(event, kind.deleted):
            return [Statement(f"DELETE FROM {self.table} WHERE ref = $1", (envelope.ref,))]
        return []

    def _upsert(self, definition: BaseModel, source: str, envelope: Envelope) -> Statement:
        values: dict[str, Any] = {
            "ref": getattr(definition, "ref"),  # noqa: B009 (definitions all have a ref)
            "pack_ref": getattr(definition, "pack_ref"),  # noqa: B009
            "enabled": getattr(definition, "enabled", True),
            "definition": definition.model_dump(mode="json"),
            "source": source, "version": envelope.seq,
            **self.columns(definition)}
        names = list(values)
        placeholders = ", ".join(f"${i}" for i in range(1, len(names) + 1))
        at = f"${len(names) + 1}"
        updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in names if n != "ref")
        sql = (f"INSERT INTO {self.table} ({', '.join(names)}, created, updated) "
               f"VALUES ({placeholders}, {at}, {at}) "
               f"ON CONFLICT (ref) DO UPDATE SET {updates}, updated = EXCLUDED.updated")
        return Statement(sql, (*values.values(), envelope.event.at))
