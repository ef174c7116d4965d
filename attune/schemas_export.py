"""JSON Schemas of every event and API body, generated from the pydantic models into
`schemas/` (one file each) and checked for drift in CI.

    schemas/events/<type>.json     e.g. schemas/events/execution.requested.json
    schemas/api/<Model>.json       e.g. schemas/api/ExecuteRequest.json

Output is deterministic (sorted keys, two-space indent, trailing newline) so a
changed model shows up as a readable diff and an unchanged one as none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from attune.domain.events import catalogue

DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: The sub-folders this module owns; other files under schemas/ are left alone.
FOLDERS = ("events", "api")


def _render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _schema(model: type[BaseModel], schema_id: str) -> dict[str, Any]:
    schema = model.model_json_schema(mode="validation")
    return {"$schema": DIALECT, "$id": schema_id, **schema}


def _api_models() -> dict[str, type[BaseModel]]:
    from attune.api.models import API_MODELS

    return API_MODELS


def generate() -> dict[str, str]:
    """Relative path -> file content, for every event type and API body."""
    files: dict[str, str] = {}
    for type_name, event in catalogue().items():
        path = f"events/{type_name}.json"
        schema = _schema(event, path)
        schema["x-attune-schema-version"] = event.model_fields["schema_version"].default
        files[path] = _render(schema)
    for name, model in sorted(_api_models().items()):
        path = f"api/{name}.json"
        files[path] = _render(_schema(model, path))
    return files


@dataclass(frozen=True)
class Drift:
    stale: list[str] = field(default_factory=list)     # content differs from the models
    missing: list[str] = field(default_factory=list)   # a model has no file
    extra: list[str] = field(default_factory=list)     # a file has no model

    @property
    def clean(self) -> bool:
        return not (self.stale or self.missing or self.extra)

    def lines(self) -> list[str]:
        return ([f"stale:   {p}" for p in self.stale] + [f"missing: {p}" for p in self.missing]
                + [f"extra:   {p}" for p in self.extra])


def _existing(directory: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in FOLDERS:
        for path in sorted((directory / folder).glob("*.json")):
            found[path.relative_to(directory).as_posix()] = path
    return found


def check(directory: Path) -> Drift:
    wanted = generate()
    have = _existing(directory)
    return Drift(
        stale=[p for p in wanted if p in have and have[p].read_text() != wanted[p]],
        missing=[p for p in wanted if p not in have],
        extra=[p for p in have if p not in wanted])


def export(directory: Path) -> Drift:
    """Write what changed, delete files of models that no longer exist; returns what
    was out of date before."""
    drift = check(directory)
    wanted = generate()
    for path in drift.stale + drift.missing:
        target = directory / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(wanted[path])
    for path in drift.extra:
        (directory / path).unlink()
    return drift
